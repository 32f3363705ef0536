"""Staff lists a page at a time in real Chromium, with axe-core: no violation allowed.

The demo catalogue has more services than a page, so an administrator's services list shows
the department filter and the pager.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import axe_violations
from tests.browser.test_feedback_flow import _login, _staff


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_services_list_pages_and_filters_accessibly(live_server, live_env, page, lang):
    _login(page, live_server, lang, _staff(live_env, "admin"))
    page.goto(f"{live_server}/{lang}/staff/services")
    assert page.locator("nav.pager").is_visible()
    assert axe_violations(page) == []

    page.click("nav.pager a[rel=next]")
    page.wait_for_load_state()
    assert "page=2" in page.url
    assert page.locator("nav.pager a[rel=prev]").is_visible()
    assert axe_violations(page) == []

    # Choosing a department starts again from its first page.
    page.select_option("#department", index=1)
    page.click("form.staff-filters button[type=submit]")
    page.wait_for_load_state()
    assert "department=" in page.url and "page=" not in page.url
    assert axe_violations(page) == []


@pytest.mark.parametrize("path", ["users", "tokens", "incidents", "jobs", "arrangements",
                                  "feedback/attention"])
def test_the_other_staff_lists_stay_accessible(live_server, live_env, page, path):
    _login(page, live_server, "en", _staff(live_env, "admin"))
    page.goto(f"{live_server}/en/staff/{path}?page=2")
    assert page.locator("main h1").is_visible()
    assert axe_violations(page) == []
