"""Finding a service in real Chromium: search results, an empty result with pointers, pages,
and where to go, in both languages, on a phone (375×740) and a desktop (1280×800), with axe."""

from __future__ import annotations

import pytest

from tests.browser.conftest import axe_violations

VIEWPORTS = {"phone": {"width": 375, "height": 740}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture(params=sorted(VIEWPORTS))
def sized_page(request, browser):
    """A page of the viewport's size (JavaScript on, axe allowed despite the CSP)."""
    context = browser.new_context(viewport=VIEWPORTS[request.param], bypass_csp=True)
    page = context.new_page()
    page.viewport_name = request.param
    yield page
    context.close()


def _fits_the_width(page) -> bool:
    """Tell whether the page scrolls sideways (a scrollable navigation row aside)."""
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize(("lang", "query"), [("id", "samsat"), ("en", "vehicle tax")])
def test_search_results_are_ranked_and_accessible(live_server, sized_page, lang, query):
    page = sized_page
    page.goto(f"{live_server}/{lang}/services")
    page.locator("#q").fill(query)
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_load_state()
    assert "q=" in page.url
    first = page.locator(".cards .card-title a").first
    assert "samsat" in first.get_attribute("href")
    assert _fits_the_width(page)
    assert axe_violations(page) == []


@pytest.mark.parametrize(("lang", "query", "topic", "text"), [
    ("id", "KTP", "KTP-el, Kartu Keluarga (KK)", "Disdukcapil"),
    ("en", "ID card", "Identity card (KTP-el)", "regency or city"),
])
def test_ktp_points_elsewhere_and_an_empty_result_helps(live_server, sized_page, lang, query,
                                                        topic, text):
    page = sized_page
    page.goto(f"{live_server}/{lang}/services?q={query}")
    pointers = page.locator("section.pointers")
    assert pointers.is_visible()
    assert topic in pointers.inner_text() and text in pointers.inner_text()
    assert axe_violations(page) == []

    page.goto(f"{live_server}/{lang}/services?q=xyzzy&mode=wfa")
    empty = page.locator("section.no-results")
    assert empty.is_visible()
    assert empty.locator(".department-index a").count() >= 20
    # The way out without the filter keeps the words.
    empty.locator("a[href*='q=xyzzy']").first.click()
    page.wait_for_load_state()
    assert "mode=" not in page.url and "q=xyzzy" in page.url
    assert _fits_the_width(page)
    assert axe_violations(page) == []


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_list_pages_with_the_filters_kept(live_server, sized_page, lang):
    page = sized_page
    page.goto(f"{live_server}/{lang}/services?mode=onsite&per_page=5")
    first_page = page.locator(".cards .card-title a").all_inner_texts()
    assert len(first_page) == 5
    page.locator(".pager a[rel=next]").click()
    page.wait_for_load_state()
    assert "mode=onsite" in page.url and "page=2" in page.url and "per_page=5" in page.url
    second_page = page.locator(".cards .card-title a").all_inner_texts()
    assert second_page and not set(second_page) & set(first_page)
    assert axe_violations(page) == []


@pytest.mark.parametrize(("lang", "label"), [("id", "Tampilkan di OpenStreetMap"),
                                             ("en", "Show on OpenStreetMap")])
def test_service_page_says_where_to_go(live_server, sized_page, lang, label):
    page = sized_page
    page.goto(f"{live_server}/{lang}/services/samsat-pkb-tahunan")
    where = page.locator("section.where-to-go")
    assert where.is_visible()
    assert "Jl. Tjilik Riwut Km 3,5" in where.inner_text()
    assert where.locator("a[href^='tel:+62']").count() == 1
    osm = where.locator("a[href^='https://www.openstreetmap.org/?mlat=']")
    assert osm.count() == 1
    if lang == "en":
        assert osm.inner_text() == label
    assert page.locator("iframe").count() == 0
    assert axe_violations(page) == []


@pytest.mark.parametrize("lang", ["id", "en"])
def test_on_a_phone_the_home_counts_fit_and_the_navigation_leaves_room(live_server, browser,
                                                                        lang):
    context = browser.new_context(viewport=VIEWPORTS["phone"], bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_server}/{lang}/")
    # The navigation does not fill the first screen: the page's own heading shows in it.
    heading_top = page.locator("main h1").bounding_box()["y"]
    assert heading_top < VIEWPORTS["phone"]["height"] / 2
    table = page.locator("table.counts").bounding_box()
    assert table["x"] >= 0 and table["x"] + table["width"] <= VIEWPORTS["phone"]["width"]
    assert _fits_the_width(page)
    # Every navigation link is still there (the row scrolls sideways).
    assert page.locator("nav.main-nav a").count() >= 7
    assert axe_violations(page) == []
    context.close()
