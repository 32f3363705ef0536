"""Issue 13 in real Chromium, both languages, on a phone (375×740) and a desktop (1280×800).

The form states its limits and counts with JavaScript, keeps a draft across the language
switch, groups services by department; the tracking page shows the holder their own text, a
code that never wraps inside itself, and a copy button. axe-core finds no violation.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.browser.conftest import axe_violations

SERVICE = "samsat-pkb-tahunan"
VIEWPORTS = {"phone": {"width": 375, "height": 740}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture(params=sorted(VIEWPORTS))
def sized_page(browser, request):
    context = browser.new_context(viewport=VIEWPORTS[request.param], bypass_csp=True,
                                  locale="id-ID")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    yield page
    context.close()


def _file(live_server: str, lang: str, subject: str, body: str, **extra) -> str:
    request = urllib.request.Request(
        f"{live_server}/api/v1/feedback",
        data=json.dumps({"kind": "complaint", "service": SERVICE, "subject": subject,
                         "body": body, "lang": lang, **extra}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["tracking_code"]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_form_counts_refuses_without_cutting_and_keeps_the_draft(live_server, sized_page,
                                                                     lang):
    page = sized_page
    page.goto(f"{live_server}/{lang}/feedback/new")
    assert page.locator("#service optgroup").count() > 5
    assert page.locator("#subject-limit").is_visible()
    assert axe_violations(page) == []
    # A pasted title of 420 characters is kept whole (no maxlength), and counted.
    long_title = "Antrean " * 52 + "pan"
    page.fill("#subject", long_title)
    assert page.input_value("#subject") == long_title
    assert page.locator("#subject ~ .char-count-over").is_visible()
    page.fill("#body", "Saya menunggu tiga jam.")
    page.check("input[name=kind][value=complaint]")
    with page.expect_navigation():
        page.click("form.feedback-form button[type=submit]:not([hidden])")
    assert page.locator("#subject-error").is_visible()
    assert page.input_value("#subject") == long_title
    assert axe_violations(page) == []

    # The other language: the same draft, nothing filed.
    other = "en" if lang == "id" else "id"
    page.fill("#subject", "Antrean panjang")
    with page.expect_navigation():
        page.click(f"button.lang-switch[value={other}]")
    assert page.locator("html").get_attribute("lang") == other
    assert page.input_value("#subject") == "Antrean panjang"
    assert page.input_value("#body") == "Saya menunggu tiga jam."
    assert page.is_checked("input[name=kind][value=complaint]")
    assert axe_violations(page) == []
    # Enter in a field sends the form; it does not switch the language again.
    page.focus("#subject")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("lang") == other
    assert "filed=1" in page.url


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_tracking_page_shows_the_holders_text_and_copies_the_code(live_server, sized_page,
                                                                       lang):
    page = sized_page
    code = _file(live_server, lang, "Loket tutup lebih awal",
                 "Loket Samsat sudah tutup pukul 10 pagi.")
    page.goto(f"{live_server}/{lang}/feedback/{code}?filed=1")
    main = page.locator("main").inner_text()
    assert "Loket Samsat sudah tutup pukul 10 pagi." in main
    # The code stays on one line, inside the page, on a phone too.
    box = page.locator("#filed-code").bounding_box()
    line_height = page.evaluate(
        "parseFloat(getComputedStyle(document.getElementById('filed-code')).lineHeight)")
    assert box["height"] < 1.6 * line_height
    assert box["x"] + box["width"] <= page.viewport_size["width"]
    # No reply box before the department answers.
    assert page.locator("#reply-title").count() == 0
    page.click(".feedback-filed .copy-button")
    page.wait_for_function(
        "document.querySelector('.feedback-filed .copy-status').textContent.length > 0")
    assert page.evaluate("navigator.clipboard.readText()") == code
    assert axe_violations(page) == []


@pytest.mark.parametrize("lang", ["id", "en"])
def test_an_integrity_report_goes_to_the_inspektorat(live_server, sized_page, lang):
    page = sized_page
    page.goto(f"{live_server}/{lang}/feedback/new")
    page.check("input[name=kind][value=complaint]")
    page.select_option("#service", SERVICE)
    page.check("#integrity")
    page.fill("#subject", "Diminta uang tambahan")
    page.fill("#body", "Petugas minta uang agar cepat.")
    with page.expect_navigation():
        page.click("form.feedback-form button[type=submit]:not([hidden])")
    assert "filed=1" in page.url
    main = page.locator("main").inner_text()
    assert "Inspektorat" in main or "Inspectorate" in main
    assert "Badan Pendapatan Daerah" not in main and "Regional Revenue Agency" not in main
    assert axe_violations(page) == []
