"""Citizen feedback in real Chromium, both languages: file, track, an officer answers.

Against the live gunicorn server with the demo data; staff accounts are made with the
``users create`` command on the server's database (``live_env``). axe-core must find no
violation on the form (empty and with errors), the tracking pages, the published list and the
staff pages; the form must work without JavaScript.
"""

from __future__ import annotations

import itertools
import json
import re
import urllib.request

import pytest

from tests.browser.conftest import axe_violations
from tests.conftest import run_flask

SERVICE = "samsat-pkb-tahunan"
DEPARTMENT = {"id": "Badan Pendapatan Daerah", "en": "Regional Revenue Agency"}
PASSWORD = "kata sandi panjang sekali 2025"
# The tracking alphabet: digits and the letters of no confusable set (DOMAIN.md).
CODE_RE = re.compile(r"^[0-9ACEFGHJKMNPQRTVWXY]{4}-[0-9ACEFGHJKMNPQRTVWXY]{4}"
                     r"-[0-9ACEFGHJKMNPQRTVWXY]{4}$")
_accounts = itertools.count(1)


def _staff(live_env: dict[str, str], role: str, department: str | None = None) -> str:
    """Create a staff account on the live server's database; return its username."""
    username = f"browser-{role}-{next(_accounts)}"
    args = ["users", "create", username, "--role", role]
    if department:
        args += ["--department", department]
    run_flask({**live_env, "PORTAL_NEW_PASSWORD": PASSWORD}, *args)
    return username


def _fill_form(page, subject: str, body: str, email: str = "") -> None:
    page.check("input[name=kind][value=complaint]")
    page.fill("#subject", subject)
    page.fill("#body", body)
    if email:
        page.fill("#email", email)


def _submit(page) -> None:
    with page.expect_navigation():
        page.click("form.feedback-form button[type=submit]")


def _file_through_the_api(live_server: str, lang: str, subject: str,
                          publish: bool = False) -> str:
    """File feedback for the demo service through the JSON API; return its tracking code."""
    request = urllib.request.Request(
        f"{live_server}/api/v1/feedback",
        data=json.dumps({"kind": "complaint", "service": SERVICE, "subject": subject,
                         "body": "Antrean panjang sekali.", "lang": lang,
                         "publish": publish}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["tracking_code"]


def _login(page, live_server: str, lang: str, username: str) -> None:
    page.goto(f"{live_server}/{lang}/staff/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "/staff/login" not in page.url


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_citizen_files_a_complaint_from_a_service_page(live_server, page, lang):
    page.goto(f"{live_server}/{lang}/services/{SERVICE}")
    page.click("a.feedback-link")
    assert page.url.endswith(f"/{lang}/feedback/new?service={SERVICE}")
    assert page.input_value("#service") == SERVICE
    _fill_form(page, f"Antrean loket ({lang})", "Saya menunggu tiga jam di loket Samsat.",
               email="warga@example.com")
    _submit(page)

    assert re.search(rf"/{lang}/feedback/[A-Z0-9-]+\?filed=1$", page.url)
    code = page.locator(".tracking-code").inner_text().strip()
    assert CODE_RE.match(code)
    main = page.locator("main").inner_text()
    assert DEPARTMENT[lang] in main
    # Where it went and why, and the deadlines: first response and resolution.
    assert page.locator("#why-title").is_visible()
    assert page.locator("section[aria-labelledby=deadlines-title] tbody tr").count() == 2
    assert "warga@example.com" not in page.content()
    assert axe_violations(page) == []


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_empty_form_has_no_axe_violations(live_server, page, lang):
    page.goto(f"{live_server}/{lang}/feedback/new")
    assert page.locator("html").get_attribute("lang") == lang
    assert axe_violations(page) == []


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_form_error_keeps_everything_typed(live_server, page, lang):
    page.goto(f"{live_server}/{lang}/feedback/new?service={SERVICE}")
    page.check("input[name=kind][value=suggestion]")
    page.fill("#body", "Tambahkan kursi di ruang tunggu.")
    page.select_option("#regency", "kapuas")
    page.check("input[name=identity][value=confidential]")
    page.fill("#name", "Budi Santoso")
    page.fill("#email", "budi@example.com")
    page.fill("#phone", "0813 1111 2222")
    page.check("#publish")
    _submit(page)  # no subject

    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert summary.locator("a[href='#subject']").count() == 1
    assert page.locator("#subject-error").is_visible()
    assert page.get_attribute("#subject", "aria-invalid") == "true"
    assert page.is_checked("input[name=kind][value=suggestion]")
    assert page.input_value("#body") == "Tambahkan kursi di ruang tunggu."
    assert page.input_value("#service") == SERVICE
    assert page.input_value("#regency") == "kapuas"
    assert page.is_checked("input[name=identity][value=confidential]")
    assert (page.input_value("#name"), page.input_value("#email"),
            page.input_value("#phone")) == ("Budi Santoso", "budi@example.com", "0813 1111 2222")
    assert page.is_checked("#publish")
    assert axe_violations(page) == []

    page.fill("#subject", "Kursi ruang tunggu")
    _submit(page)
    assert "filed=1" in page.url


@pytest.mark.parametrize("lang", ["id", "en"])
def test_tracking_by_code_however_it_is_typed(live_server, page, lang):
    code = _file_through_the_api(live_server, lang, "Lacak saya")
    page.goto(f"{live_server}/{lang}/track")
    assert axe_violations(page) == []
    page.fill("#code", code.lower().replace("-", " "))
    page.click("form.track-form button[type=submit]")
    page.wait_for_load_state()
    assert page.url == f"{live_server}/{lang}/feedback/{code}"
    assert DEPARTMENT[lang] in page.locator("main").inner_text()
    assert axe_violations(page) == []

    page.goto(f"{live_server}/{lang}/track?code=ZZZZ-ZZZZ-ZZZZ")
    assert page.locator("#code-error").is_visible()
    assert axe_violations(page) == []


@pytest.mark.parametrize("lang", ["id", "en"])
def test_an_officer_answers_and_the_citizen_sees_the_answer(live_server, live_env, browser,
                                                            page, lang):
    subject = f"Tolong jawab ({lang}, {next(_accounts)})"
    code = _file_through_the_api(live_server, lang, subject, publish=True)
    officer = _staff(live_env, "officer", "bapenda")

    _login(page, live_server, lang, officer)
    page.goto(f"{live_server}/{lang}/staff/feedback")
    # Staff see a public reference, never the tracking code (DOMAIN.md, Privacy).
    assert code not in page.content()
    row_link = page.locator("table tr", has_text=subject).get_by_role("link")
    assert row_link.count() == 1
    reference = row_link.inner_text().strip()
    assert reference.startswith("P")
    # It also waits in the list of requests to publish.
    assert page.locator("section[aria-labelledby=publish-requests-title]").get_by_role(
        "link", name=reference, exact=True).count() == 1
    assert axe_violations(page) == []
    row_link.click()
    page.wait_for_load_state()
    assert axe_violations(page) == []
    answer = f"Loket tambahan dibuka mulai Senin ({lang})."
    page.fill("#answer-text", answer)
    page.click("form[action$='/answer'] button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".staff-messages").is_visible()
    # The reporter asked to publish: the officer checks and edits the public version.
    assert page.locator(".publish-warning").is_visible()
    public_subject = f"Antrean Samsat yang panjang ({lang}, {code[-4:]})"
    page.fill("#publish-subject", public_subject)
    page.click("form[action$='/publish'] button[type=submit]")
    page.wait_for_load_state()
    assert axe_violations(page) == []

    citizen = browser.new_context(locale="id-ID", bypass_csp=True).new_page()
    try:
        citizen.goto(f"{live_server}/{lang}/feedback/{code}")
        assert answer in citizen.locator("ol.timeline").inner_text()
        assert officer not in citizen.content()
        citizen.goto(f"{live_server}/{lang}/feedback?service={SERVICE}")
        citizen.get_by_role("link", name=public_subject, exact=True).click()
        citizen.wait_for_load_state()
        assert answer in citizen.locator("main").inner_text()
        assert code not in citizen.content()
        assert axe_violations(citizen) == []
    finally:
        citizen.context.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_staff_admin_pages_and_the_published_list_have_no_axe_violations(live_server, live_env,
                                                                      page, lang):
    page.goto(f"{live_server}/{lang}/feedback")
    assert page.locator("h1").count() == 1
    assert axe_violations(page) == []
    _login(page, live_server, lang, _staff(live_env, "admin"))
    page.goto(f"{live_server}/{lang}/staff/routing")
    assert page.locator("tbody tr").count() >= 1  # the demo rules
    assert axe_violations(page) == []
    page.goto(f"{live_server}/{lang}/staff/feedback/attention")
    assert axe_violations(page) == []


def test_the_form_works_without_javascript(live_server, no_js_page):
    page = no_js_page
    page.goto(f"{live_server}/en/feedback/new?service={SERVICE}")
    page.check("input[name=kind][value=question]")
    page.fill("#subject", "Tanpa JavaScript")
    page.fill("#body", "Apakah bisa bayar di kantor kecamatan?")
    _submit(page)
    assert "filed=1" in page.url
    assert CODE_RE.match(page.locator(".tracking-code").inner_text().strip())
