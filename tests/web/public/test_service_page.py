"""The service page's parts rendered in Python (portal/web/public/service_page.py): each must
be byte for byte what the template's loops rendered (kept here as the reference)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from flask import render_template_string

from portal.domain.calendar import utc_now
from portal.i18n import page_gettext
from portal.models import User
from portal.services.metrics.incidents import incident_open, maintenance_schedule
from portal.web.formatting import Formats
from portal.web.public.service_page import _history_rows, _standard_rows
from tests.factories import create_department, create_service

# The work mode and commitment histories' rows as service.html rendered them (a template
# rendered from a string loses its last newline: the loops' own is the one before endfor).
_MODE_HISTORY_LOOP = (
    "    {% for change in service.work_mode_history %}\n"
    "      <tr><td>{{ change.effective_from|date_long if change.effective_from else "
    "_(\"Before records began\") }}</td><td>{{ work_mode_label(change.work_mode) }}</td>"
    "<td>{{ change.recorded_at|datetime_wib }}</td></tr>\n    {% endfor %}\n"
)
_COMMITMENT_HISTORY_LOOP = (
    "    {% for change in service.commitment_history %}\n"
    "      <tr><td>{{ change.effective_from|date_long if change.effective_from else "
    "_(\"Before records began\") }}</td><td>{{ commitment_text(change.commitment_value, "
    "change.commitment_unit, change.on_time_target) }}{% if change.first_response_value is "
    "not none %}<br>{{ first_response_text(change.first_response_value, "
    "change.first_response_unit) }}{% endif %}</td><td>{{ change.reason or \"—\" }}</td>"
    "<td>{{ change.recorded_at|datetime_wib }}</td></tr>\n    {% endfor %}\n"
)

# The service standard's published texts as service.html's loop rendered them.
_STANDARD_LOOP = (
    "    {% for field, label in [(\"requirements\", _(\"Requirements\")), (\"procedure\", "
    "_(\"Procedure\")), (\"cost\", _(\"Cost\")), (\"product\", _(\"Product\")), (\"hours\", "
    "_(\"Opening hours\"))] %}\n    {% set text = localized(service, field) %}\n"
    "    <dt>{{ label }}</dt>\n    <dd>{% if text.text %}{{ text }}{% else %}<span "
    "class=\"muted\">{{ _(\"Not published yet.\") }}</span>{% endif %}</dd>\n"
    "    {% endfor %}\n"
)


def _service() -> SimpleNamespace:
    """A service with every kind of history row: undated, dated, with and without a first
    response, a reason to escape and none."""
    recorded = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    modes = [SimpleNamespace(effective_from=None, work_mode="onsite", recorded_at=recorded),
             SimpleNamespace(effective_from=date(2026, 2, 1), work_mode="wfa",
                             recorded_at=recorded),
             SimpleNamespace(effective_from=date(2026, 5, 1), work_mode="hybrid",
                             recorded_at=datetime(2026, 5, 1, 17, 0, tzinfo=UTC))]
    commitments = [
        SimpleNamespace(effective_from=None, commitment_value=3, commitment_unit="working_days",
                        on_time_target=0.9, first_response_value=None,
                        first_response_unit=None, reason=None, recorded_at=recorded),
        SimpleNamespace(effective_from=date(2026, 4, 2), commitment_value=1,
                        commitment_unit="hours", on_time_target=0.85, first_response_value=0,
                        first_response_unit="working_days",
                        reason='Fewer staff <b>&</b> "more" requests', recorded_at=recorded),
        SimpleNamespace(effective_from=date(2026, 6, 3), commitment_value=0,
                        commitment_unit="working_days", on_time_target=0.95,
                        first_response_value=2, first_response_unit="hours", reason="",
                        recorded_at=recorded),
    ]
    return SimpleNamespace(work_mode_history=modes, commitment_history=commitments)


def test_history_rows_in_one_string_are_the_template_loops_rows(app):
    for service in (_service(), SimpleNamespace(work_mode_history=[], commitment_history=[])):
        for lang in ("id", "en"):
            with app.test_request_context(f"/{lang}/"):
                app.preprocess_request()
                modes, commitments = _history_rows(service, Formats())
                assert f"    {modes}" == render_template_string(
                    _MODE_HISTORY_LOOP, service=service, **page_gettext())
                assert f"    {commitments}" == render_template_string(
                    _COMMITMENT_HISTORY_LOOP, service=service, **page_gettext())
    # The reason is escaped, and every kind of row is there.
    with app.test_request_context("/en/"):
        app.preprocess_request()
        modes, commitments = _history_rows(_service(), Formats())
    assert "Fewer staff &lt;b&gt;&amp;&lt;/b&gt; &#34;more&#34; requests" in commitments
    assert "<br>" in commitments and modes.count("<tr>") == 3


def test_standard_rows_in_one_string_are_the_template_loops_rows(app):
    # Published in both languages, in Indonesian only (English falls back to it, marked), in
    # neither, blank, and with markup to escape.
    service = SimpleNamespace(
        requirements_id="KTP & KK", requirements_en="ID card & family card",
        procedure_id="Datang <b>langsung</b>", procedure_en="",
        cost_id="", cost_en="", product_id="   ", product_en=None,
        hours_id="Senin–Jumat", hours_en="Monday to Friday")
    for lang in ("id", "en"):
        with app.test_request_context(f"/{lang}/"):
            app.preprocess_request()
            rows = _standard_rows(service, Formats())
            assert f"    {rows}" == render_template_string(
                _STANDARD_LOOP, service=service, **page_gettext())
    assert "Datang &lt;b&gt;langsung&lt;/b&gt;" in rows and 'lang="id"' in rows
    assert rows.count("<dt>") == 5 and "KK" not in rows


def test_the_service_page_shows_its_open_incidents_and_maintenance(app, client):
    # The notices' macros are imported only where a page has notices to show.
    staff = User(username="admin", role="admin", department_id=None, is_active=True)
    service = create_service(department=create_department(), code="samsat-pkb")
    quiet = create_service(department=service.department, code="samsat-bbn")
    incident_open(staff, [service.code], "outage", "SAMSAT daring tidak dapat diakses",
                  "Online SAMSAT unreachable", "Kami menyelidiki.", "We are investigating.")
    starts = utc_now() + timedelta(days=2)
    maintenance_schedule(staff, [service.code], starts, starts + timedelta(hours=3),
                         "Pemeliharaan server", "Server maintenance", "Tidak tersedia.",
                         "Unavailable.")
    html = client.get(f"/en/services/{service.code}").get_data(as_text=True)
    assert 'class="incident-banner"' in html and "Online SAMSAT unreachable" in html
    assert 'class="maintenance-notice"' in html and "Server maintenance" in html
    html = client.get(f"/en/services/{quiet.code}").get_data(as_text=True)
    assert "incident-banner" not in html and "maintenance-notice" not in html
