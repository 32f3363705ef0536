"""Staff page of a department's WFA arrangement, and what the public and the DPRD then read."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.domain.calendar import utc_now, wib_date
from portal.extensions import db
from portal.models.arrangements import WfaArrangement
from tests.factories import create_department, create_service, create_user, csrf_token_from, login

PATH = "/{lang}/staff/departments/dinkes/arrangement"


@pytest.fixture
def world(app):
    dinkes = create_department(code="dinkes", name_id="Dinas Kesehatan", name_en="Health Office")
    bapenda = create_department(code="bapenda", name_en="Revenue Agency")
    create_service(department=dinkes, code="izin-klinik")
    return {
        "officer": create_user(role="officer", department=dinkes, username="rina"),
        "outsider": create_user(role="officer", department=bapenda, username="budi"),
        "triage": create_user(role="triage", username="tari"),
        "dprd": create_user(role="dprd", username="dewi"),
        "admin": create_user(role="admin", username="adi"),
    }


def _as(app, world, who: str):
    client = app.test_client()
    if who != "anonymous":
        assert login(client, world[who].username).status_code == 302
    return client


def _fields(client, lang: str = "en", **changes) -> dict:
    token = csrf_token_from(client.get(PATH.format(lang=lang)).get_data(as_text=True))
    today = wib_date(utc_now())
    fields = {
        "csrf_token": token,
        "wfa_applies": "yes",
        "remote_share_percent": "40",
        "legal_basis_title": "Keputusan Kepala Dinas Kesehatan tentang WFA",
        "legal_basis_number": "440/301/Dinkes/2026",
        "legal_basis_date": (today - timedelta(days=30)).isoformat(),
        "legal_basis_url": "https://dinkes.kalteng.go.id/wfa.pdf",
        "supervision_id": "Atasan memeriksa capaian kerja setiap sore.",
        "supervision_en": "Managers check work output every afternoon.",
        "reporting_id": "Laporan kerja harian di e-Kinerja.",
        "reporting_en": "Daily work reports in e-Kinerja.",
        "it_systems_id": "e-Kinerja dan SRIKANDI.",
        "it_systems_en": "e-Kinerja and SRIKANDI.",
        "effective_from": today.isoformat(),
        "reason": "",
    }
    fields.update(changes)
    return fields


def test_an_officer_publishes_and_the_department_page_shows_it_in_both_languages(
    app, world
) -> None:
    client = _as(app, world, "officer")
    response = client.post(PATH.format(lang="en"), data=_fields(client))
    assert response.status_code == 302

    english = client.get("/en/departments/dinkes").get_data(as_text=True)
    assert "WFA arrangement" in english
    assert "Yes: WFA applies" in english
    assert "Daily work reports in e-Kinerja." in english
    assert 'href="https://dinkes.kalteng.go.id/wfa.pdf"' in english
    # What the portal measures stands beside it: this department never sent data.
    assert "No service data ever received" in english
    indonesian = client.get("/id/departments/dinkes").get_data(as_text=True)
    assert "Laporan kerja harian di e-Kinerja." in indonesian
    assert "Daily work reports in e-Kinerja." not in indonesian


def test_a_department_without_arrangement_reads_not_published(app, world, client) -> None:
    html = client.get("/en/departments/dinkes").get_data(as_text=True)
    assert "Not published." in html
    assert "0 of 1 service meets its commitment (0%)" in html


def test_a_refused_declaration_keeps_what_was_typed(app, world) -> None:
    client = _as(app, world, "officer")
    response = client.post(
        PATH.format(lang="en"),
        data=_fields(client, wfa_applies="no", remote_share_percent="25",
                     supervision_id="Teks yang diketik tetap ada"),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "must be 0 or empty when WFA does not apply" in html
    assert "Teks yang diketik tetap ada" in html and 'value="25"' in html
    assert db.session.scalar(select(WfaArrangement.id)) is None


def test_a_missing_choice_is_tied_to_its_radio_buttons(app, world) -> None:
    client = _as(app, world, "officer")
    response = client.post(PATH.format(lang="en"), data=_fields(client, wfa_applies=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    radios = re.findall(r'<input [^>]*name="wfa_applies"[^>]*>', html)
    assert len(radios) == 3
    assert all('aria-describedby="wfa_applies-error"' in radio for radio in radios)
    assert 'id="wfa_applies-error"' in html


@pytest.mark.parametrize(("who", "status"), [
    ("outsider", 403), ("triage", 403), ("dprd", 403),
])
def test_others_may_not_read_or_publish_the_arrangement(app, world, who, status) -> None:
    client = _as(app, world, who)
    assert client.get(PATH.format(lang="en")).status_code == status
    # A valid token of their own session: the refusal is the authorization's, not CSRF's.
    token = csrf_token_from(client.get("/en/staff/").get_data(as_text=True))
    officer = _as(app, world, "officer")
    response = client.post(PATH.format(lang="en"), data=_fields(officer, csrf_token=token))
    assert response.status_code == status
    assert db.session.scalar(select(WfaArrangement.id)) is None


@pytest.mark.parametrize(("who", "status"), [
    ("triage", 403), ("dprd", 403), ("outsider", 200), ("officer", 200), ("admin", 200),
])
def test_the_list_of_arrangements_is_for_those_who_keep_one(app, world, who, status) -> None:
    assert _as(app, world, who).get("/en/staff/arrangements").status_code == status


def test_an_unknown_department_is_not_found(app, world) -> None:
    client = _as(app, world, "admin")
    assert client.get("/en/staff/departments/no-such/arrangement").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(app, world, client) -> None:
    response = client.get(PATH.format(lang="en"))
    assert response.status_code == 302 and "/en/staff/login" in response.headers["Location"]


def test_a_post_without_csrf_token_is_refused(app, world) -> None:
    client = _as(app, world, "officer")
    fields = _fields(client)
    del fields["csrf_token"]
    assert client.post(PATH.format(lang="en"), data=fields).status_code == 400
    assert db.session.scalar(select(WfaArrangement.id)) is None


def test_the_form_starts_from_the_version_in_force_and_lists_the_history(app, world) -> None:
    client = _as(app, world, "admin")
    today = wib_date(utc_now())
    earlier = (today - timedelta(days=40)).isoformat()
    client.post(PATH.format(lang="en"),
                data=_fields(client, wfa_applies="pilot", remote_share_percent="10",
                             effective_from=earlier))
    client.post(PATH.format(lang="en"), data=_fields(client, reason="Uji coba diperluas"))

    page = client.get(PATH.format(lang="en")).get_data(as_text=True)
    assert re.search(r'<input checked id="wfa_applies-\d" [^>]*value="yes">', page)
    assert 'value="Daily work reports in e-Kinerja."' not in page  # a textarea, prefilled:
    assert "Daily work reports in e-Kinerja.</textarea>" in page
    assert "Uji coba diperluas" in page and "adi" in page
    public = client.get("/en/departments/dinkes").get_data(as_text=True)
    assert "All versions of the arrangement (2)" in public
    assert "Pilot: WFA is being tried" in public
    states = re.findall(r"<tr><td>[^<]+</td><td>(In force|Replaced|Announced)</td>", public)
    assert states == ["In force", "Replaced"]
    listing = client.get("/en/staff/arrangements").get_data(as_text=True)
    assert "Health Office" in listing and "Revenue Agency" in listing


def test_a_version_announced_ahead_is_shown_as_announced_not_in_force(app, world) -> None:
    client = _as(app, world, "officer")
    ahead = (wib_date(utc_now()) + timedelta(days=20)).isoformat()
    assert client.post(PATH.format(lang="en"),
                       data=_fields(client, effective_from=ahead)).status_code == 302

    public = client.get("/en/departments/dinkes").get_data(as_text=True)
    assert "Not published." in public  # nothing is in force yet
    assert "All versions of the arrangement (1)" in public
    assert re.findall(r"<tr><td>[^<]+</td><td>(In force|Replaced|Announced)</td>",
                      public) == ["Announced"]
    # The next version starts from the announced one (it may not start before it).
    form = client.get(PATH.format(lang="en")).get_data(as_text=True)
    assert re.search(rf'id="effective_from"[^>]*value="{ahead}"', form)
    assert "Daily work reports in e-Kinerja.</textarea>" in form
    again = client.post(PATH.format(lang="en"), data=_fields(
        client, effective_from=ahead, reason="Nomor keputusan diperbaiki"))
    assert again.status_code == 302


def test_an_officer_lists_only_their_department(app, world) -> None:
    listing = _as(app, world, "officer").get("/en/staff/arrangements").get_data(as_text=True)
    assert "Health Office" in listing and "Revenue Agency" not in listing


def test_the_footer_offers_staff_login_only_to_visitors(app, world, client) -> None:
    assert 'href="/en/staff/login"' in client.get("/en/services").get_data(as_text=True)
    officer = _as(app, world, "officer")
    assert 'href="/en/staff/login"' not in officer.get("/en/services").get_data(as_text=True)


def test_the_dprd_scorecard_shows_the_arrangement_beside_the_measures(app, world) -> None:
    client = _as(app, world, "officer")
    client.post(PATH.format(lang="en"), data=_fields(client))
    for path in ("/en/accountability/departments/dinkes",
                 "/en/accountability/departments/dinkes/report"):
        html = app.test_client().get(path).get_data(as_text=True)
        assert "Yes: WFA applies" in html, path
        assert "Daily work reports in e-Kinerja." in html
        assert "No service data ever received" in html
