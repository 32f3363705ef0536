"""DPRD oversight: de-identified feedback across departments and the audit log, read only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.services.accountability.dprd_feedback import feedback_dprd_list
from portal.services.errors import NotAuthorized
from tests.accountability_support import create_feedback
from tests.factories import create_department, create_service, create_user, login

SECRET = {"reporter_name": "Siti Rahmawati", "reporter_email": "siti.rahma@example.com",
          "reporter_phone": "0812 3456 7890"}


@pytest.fixture
def feedback(app):
    service = create_service(code="ktp")
    return create_feedback(
        service, subject="Antrean KTP", confidential=True,
        body=("Saya Siti Rahmawati menunggu 3 jam. Hubungi siti.rahma@example.com atau "
              "0812-3456-7890. Loket 2 tutup."),
        **SECRET,
    )


@pytest.mark.parametrize(
    ("role", "expected"),
    [(None, 302), ("officer", 403), ("triage", 403), ("dprd", 200), ("admin", 200)],
)
@pytest.mark.parametrize("path", ["/en/staff/dprd/feedback", "/en/staff/audit"])
def test_access_to_the_oversight_pages(client, feedback, role, expected, path):
    if path.endswith("/audit") and role == "triage":
        expected = 403
    if role:
        user = create_user(role=role)
        login(client, user.username)
    response = client.get(path)
    assert response.status_code == expected
    if expected == 302:
        assert "/en/staff/login" in response.headers["Location"]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_dprd_reads_texts_without_any_identity(client, feedback, lang):
    login(client, create_user(role="dprd").username, lang=lang)
    html = client.get(f"/{lang}/staff/dprd/feedback").get_data(as_text=True)
    assert "menunggu 3 jam" in html and "Loket 2 tutup" in html
    for secret in ("Siti", "Rahmawati", "siti.rahma@example.com", "0812", "3456",
                   feedback.tracking_code, feedback.tracking_code_display):
        assert secret not in html, secret


def test_dprd_dashboard_links_to_the_oversight_pages(client, feedback):
    login(client, create_user(role="dprd").username)
    html = client.get("/en/staff/").get_data(as_text=True)
    assert "/en/staff/dprd/feedback" in html
    assert "/en/staff/audit" in html


def test_list_filters_by_department(app, feedback):
    other = create_department()
    create_feedback(department=other, body="Jalan rusak")
    dprd = create_user(role="dprd")
    assert feedback_dprd_list(dprd).total == 2
    only = feedback_dprd_list(dprd, department_id=other.id)
    assert [item.body for item in only.items] == ["Jalan rusak"]


@pytest.mark.parametrize("role", ["officer", "triage"])
def test_service_refuses_other_roles(app, feedback, role):
    with pytest.raises(NotAuthorized):
        feedback_dprd_list(create_user(role=role))



def test_the_list_pages_fifty_at_a_time_keeping_the_department_filter(client, app):
    department = create_department(code="dinkes")
    start = datetime(2025, 9, 1, 9, 0, tzinfo=UTC)
    for n in range(51):
        create_feedback(department=department, subject=f"Keluhan {n:02d}",
                        submitted_at=start + timedelta(hours=n))
    login(client, create_user(role="dprd").username)

    first = client.get("/en/staff/dprd/feedback?department=dinkes").get_data(as_text=True)
    second = client.get("/en/staff/dprd/feedback?department=dinkes&page=2").get_data(
        as_text=True)

    # Newest first: items 50 down to 01 on the first page, the oldest alone on the second.
    assert "Keluhan 50" in first and "Keluhan 01" in first and "Keluhan 00" not in first
    assert "Keluhan 00" in second and "Keluhan 01" not in second
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert 'href="/en/staff/dprd/feedback?page=2&amp;department=dinkes"' in first
    assert 'href="/en/staff/dprd/feedback?page=1&amp;department=dinkes"' in second
