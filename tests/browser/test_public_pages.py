"""Public pages in real Chromium, both languages, with axe-core: no violation allowed."""

from __future__ import annotations

import gzip
import re
import urllib.request

import pytest

from tests.browser.conftest import axe_violations

PAGES = [
    "/{lang}/",
    "/{lang}/services",
    "/{lang}/services?mode=wfa",
    "/{lang}/services/samsat-pkb-tahunan",
    "/{lang}/services/samsat-pkb-tahunan/tables",
    "/{lang}/departments",
    "/{lang}/departments/bapenda",
    "/{lang}/data",
    "/{lang}/developers",
    "/{lang}/no-such-page",
]


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("path", PAGES)
def test_public_page_has_no_axe_violations(live_server, page, lang, path):
    response = page.goto(live_server + path.format(lang=lang))
    assert response is not None
    assert response.status in (200, 404)
    assert page.locator("html").get_attribute("lang") == lang
    assert axe_violations(page) == []


def test_language_switch_keeps_the_reader_on_the_same_page(live_server, page):
    page.goto(f"{live_server}/id/services/samsat-pkb-tahunan")
    page.get_by_role("link", name="English").click()
    assert page.url == f"{live_server}/en/services/samsat-pkb-tahunan"
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="Bahasa Indonesia").click()
    assert page.url == f"{live_server}/id/services/samsat-pkb-tahunan"


def test_searching_from_the_home_page_finds_services_without_javascript(live_server,
                                                                          no_js_page):
    no_js_page.goto(f"{live_server}/en/")
    no_js_page.get_by_label("Find a service").fill("hospital")
    no_js_page.get_by_role("button", name="Search").click()
    assert "/en/services?q=hospital" in no_js_page.url
    assert no_js_page.locator(".cards li").count() >= 1


def test_demo_notice_is_visible_on_demo_data(live_server, page):
    page.goto(f"{live_server}/id/")
    assert page.get_by_text("Data demo.").is_visible()


@pytest.mark.parametrize("path", ["/id/", "/en/services", "/id/services/samsat-pkb-tahunan"])
def test_public_page_weighs_at_most_50_kb_compressed_with_its_css(live_server, path):
    html = urllib.request.urlopen(live_server + path).read()
    css_path = re.search(rb'href="(/static/[^"]+\.css)"', html).group(1).decode()
    css = urllib.request.urlopen(live_server + css_path).read()
    size = len(gzip.compress(html)) + len(gzip.compress(css))
    assert size <= 50 * 1024, f"{path}: {size} bytes compressed"
