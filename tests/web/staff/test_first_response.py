"""Staff commitment form: the optional first-response promise, round trip and public history."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.domain.calendar import utc_now, wib_date
from portal.extensions import db
from portal.models import AuditEntry
from tests.factories import create_department, create_service, create_user, csrf_token_from, login

EDIT = "/en/staff/services/izin-klinik/edit"
PUBLIC = "/en/services/izin-klinik"


@pytest.fixture
def officer(app):
    """A logged-in officer of the department keeping izin-klinik (5 working days, 90%)."""
    department = create_department(code="dinkes")
    create_service(code="izin-klinik", department=department)
    create_user(role="officer", department=department, username="rina")
    client = app.test_client()
    assert login(client, "rina").status_code == 302
    return client


def _post(client, **fields: str):
    """Post the commitment form with the session's CSRF token and today's date."""
    token = csrf_token_from(client.get(EDIT).get_data(as_text=True))
    data = {
        "csrf_token": token, "form": "commitment",
        "commitment-commitment_value": "5", "commitment-commitment_unit": "working_days",
        "commitment-on_time_target_percent": "90",
        "commitment-effective_from": wib_date(utc_now()).isoformat(),
        "commitment-reason": "Janji respons awal",
    }
    data.update({f"commitment-{name}": value for name, value in fields.items()})
    return client.post(EDIT, data=data)


def _history(client) -> str:
    """Return the commitment history section of the public page."""
    html = client.get(PUBLIC).get_data(as_text=True)
    return html.split('id="commitment-history-title"', 1)[1]


def test_the_form_offers_optional_labelled_first_response_fields(officer) -> None:
    html = officer.get(EDIT).get_data(as_text=True)
    assert '<label for="commitment-first_response_value">' \
           "Time to first response (optional)</label>" in html
    assert "Leave empty if the service does not promise a first response." in html
    assert 'aria-describedby="commitment-first_response_value-hint"' in html
    assert 'name="commitment-first_response_value" type="number" value=""' in html
    assert '<label for="commitment-first_response_unit">' \
           "Unit of the time to first response</label>" in html


def test_a_first_response_promise_round_trips_to_the_form_and_public_page(officer) -> None:
    assert _post(officer, first_response_value="2",
                 first_response_unit="working_days").status_code == 302

    form = officer.get(EDIT).get_data(as_text=True)
    assert 'name="commitment-first_response_value" type="number" value="2"' in form
    assert '<option selected value="working_days">' in form.split(
        'id="commitment-first_response_unit"', 1)[1]

    public = officer.get(PUBLIC).get_data(as_text=True)
    facts = public.split('<dl class="facts">', 1)[1].split("</dl>", 1)[0]
    assert "<dt>First response</dt>" in facts
    assert "First response within 2 working days" in facts
    history = _history(officer)
    rows = history.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
    # The import row made no promise; the new row does, with its reason.
    assert len(rows) == 2
    promised = [row for row in rows if "Janji respons awal" in row]
    assert len(promised) == 1 and "First response within 2 working days" in promised[0]
    assert sum("First response" in row for row in rows) == 1
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "service.commitment_change"))
    assert entry.to_state == "5 working_days, 0.90, first response 2 working_days"


def test_hours_and_singular_sentences(officer) -> None:
    assert _post(officer, first_response_value="1", first_response_unit="hours").status_code \
        == 302
    assert "First response within 1 hour<" in _history(officer)


def test_an_empty_value_means_no_promise_whatever_the_unit(officer) -> None:
    assert _post(officer, first_response_value="3",
                 first_response_unit="hours").status_code == 302
    response = _post(officer, first_response_value="", first_response_unit="hours",
                     reason="Janji dicabut")
    assert response.status_code == 302
    public = officer.get(PUBLIC).get_data(as_text=True)
    facts = public.split('<dl class="facts">', 1)[1].split("</dl>", 1)[0]
    assert "First response" not in facts
    history = _history(officer)
    withdrawn = [row for row in history.split("<tr>") if "Janji dicabut" in row]
    assert len(withdrawn) == 1 and "First response" not in withdrawn[0]
    assert "First response within 3 hours" in history


def test_a_wrong_value_is_refused_keeping_what_was_typed(officer) -> None:
    response = _post(officer, first_response_value="-4", first_response_unit="hours",
                     on_time_target_percent="85")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'aria-invalid="true"' in html
    assert 'value="-4"' in html and 'value="85"' in html
    assert '<option selected value="hours">' in html.split(
        'id="commitment-first_response_unit"', 1)[1]
    assert db.session.scalar(select(AuditEntry.id)) is None


def test_a_value_above_the_units_limit_is_refused_by_the_service(officer) -> None:
    response = _post(officer, first_response_value="3000", first_response_unit="working_days")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "must be at most 2600" in html
    assert 'value="3000"' in html
