"""A department's WFA arrangement in real Chromium: the staff form and the public panel.

Both languages, on a phone and a desktop viewport, with axe-core: no violation allowed; on a
phone the page does not scroll sideways (the arrangement table scrolls inside its box).
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import axe_violations
from tests.browser.test_feedback_flow import _login, _staff

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


def _fits_the_screen(page) -> bool:
    return page.evaluate(
        "document.scrollingElement.scrollWidth <= window.innerWidth + 1"
    )


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("lang", ["id", "en"])
def test_an_officer_publishes_an_arrangement_and_the_public_reads_it(
    live_server, live_env, page, lang, viewport
):
    page.set_viewport_size(VIEWPORTS[viewport])
    _login(page, live_server, lang, _staff(live_env, "officer", "dishub"))
    page.goto(f"{live_server}/{lang}/staff/departments/dishub/arrangement")
    assert axe_violations(page) == []

    # A share of 150% is refused, with what was typed kept and the error tied to its field.
    page.fill("#remote_share_percent", "150")
    page.fill("#reporting_en", "Weekly reports to the head of division")
    with page.expect_navigation():
        page.click("main form.staff-form button[type=submit]")
    assert page.locator(".error-summary").is_visible()
    assert page.locator("#remote_share_percent").get_attribute("aria-invalid") == "true"
    assert page.locator("#reporting_en").input_value() == "Weekly reports to the head of division"
    assert axe_violations(page) == []

    page.fill("#remote_share_percent", "20")
    with page.expect_navigation():
        page.click("main form.staff-form button[type=submit]")
    assert page.locator(".notice-success").is_visible()

    page.goto(f"{live_server}/{lang}/departments/dishub")
    panel = page.locator("section.arrangement")
    assert panel.is_visible()
    assert "20%" in panel.inner_text()
    assert axe_violations(page) == []
    assert _fits_the_screen(page)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_department_without_arrangement_reads_not_published(live_server, page, lang):
    page.goto(f"{live_server}/{lang}/departments/kesbangpol")
    text = page.locator("section.arrangement").inner_text()
    assert ("Belum dipublikasikan." if lang == "id" else "Not published.") in text
    assert axe_violations(page) == []
    assert _fits_the_screen(page)
