"""Following a service in real Chromium: the badge snippet, the feed link, the page's head."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import axe_violations

SERVICE = "samsat-pkb-tahunan"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_service_page_with_its_badge_snippet_has_no_axe_violations(live_server, page, lang):
    response = page.goto(f"{live_server}/{lang}/services/{SERVICE}")
    assert response is not None and response.status == 200

    badge = page.locator(".badge-preview img")
    badge.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=badge.element_handle())
    snippet = page.locator("#badge-code")
    assert snippet.get_attribute("readonly") is not None
    code = snippet.input_value()
    assert code.startswith("<a href=") and f"/badge/services/{SERVICE}.svg" in code
    assert ("?lang=en" in code) == (lang == "en")
    assert page.locator('label[for="badge-code"]').count() == 1
    assert axe_violations(page) == []


def test_badge_opened_on_its_own_is_an_accessible_image(live_server, page):
    response = page.goto(f"{live_server}/badge/services/{SERVICE}.svg?lang=en")
    assert response is not None and response.status == 200

    svg = page.locator("svg")
    assert svg.get_attribute("role") == "img"
    label = svg.get_attribute("aria-label")
    assert label.endswith("(Pantau Layanan)")
    assert page.locator("svg title").text_content() == label


def test_structured_data_and_feed_link_work_under_the_sites_own_policy(live_server, browser):
    # No bypass_csp here: the page runs under its real Content-Security-Policy.
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    complaints: list[str] = []
    page.on("console", lambda message: complaints.append(message.text)
            if "Content Security Policy" in message.text else None)
    try:
        page.goto(f"{live_server}/en/services/{SERVICE}")
        raw = page.locator('script[type="application/ld+json"]').text_content()
        data = json.loads(raw)
        assert data["@type"] == "GovernmentService"
        feed = page.locator('link[rel="alternate"][type="application/atom+xml"]')
        href = feed.get_attribute("href")
        assert href == f"/en/services/{SERVICE}/feed.atom"
        answer = page.request.get(live_server + href)
        assert answer.status == 200
        assert answer.headers["content-type"].startswith("application/atom+xml")
        assert complaints == []
    finally:
        context.close()
