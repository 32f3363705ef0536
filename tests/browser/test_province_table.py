"""The province table measured in real Chromium (issue 13): fits a laptop, cards on a phone.

At 1280 × 800 every key column of the key table lies within the window without scrolling,
and in the tables that do scroll the department's name stays in view; at 375 × 740 the page
never scrolls sideways and each department is a card. axe-core in both languages.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import axe_violations

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
KEY_COLUMNS = ('a[href*="sort=on_time"]', 'a[href*="sort=wfa_change"]',
               'a[href*="sort=overdue"]', 'a[href*="sort=ikm"]',
               'a[href*="sort=status_breaching"]', 'a[href*="sort=status_disrupted"]')


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport=LAPTOP, bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, bypass_csp=True, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    yield page
    context.close()


def _box(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box


@pytest.mark.parametrize("lang", ["id", "en"])
def test_on_a_laptop_the_key_columns_fit_without_scrolling(live_server, laptop, lang):
    response = laptop.goto(f"{live_server}/{lang}/accountability")
    assert response is not None and response.status == 200
    scroller = laptop.locator(".key-scroll")
    # The key table does not scroll at all: nothing is hidden to the right.
    assert scroller.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    width = laptop.evaluate("document.documentElement.clientWidth")
    for selector in KEY_COLUMNS:
        header = _box(laptop, f".key-table thead {selector}")
        assert 0 <= header["x"] and header["x"] + header["width"] <= width, selector
    # The page itself does not scroll sideways either.
    assert laptop.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    # Names wrap: no department cell is wider than a sensible column.
    widest = laptop.evaluate(
        "Math.max(...[...document.querySelectorAll('.key-table tbody .col-name')]"
        ".map(e => e.getBoundingClientRect().width))")
    assert widest <= 260
    assert axe_violations(laptop) == []


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize(("path", "width"), [
    ("/{lang}/accountability", 700),
    ("/{lang}/accountability/departments/dinkes", 480),  # the scorecard's services table
    # The WFA impact's comparison table (the scorecard leads to it: its tables are there).
    ("/{lang}/accountability/departments/dinkes/wfa-impact", 480),
])
def test_the_name_stays_in_view_when_the_figures_scroll(live_server, browser, lang, path,
                                                        width):
    # A window narrow enough for the table to scroll sideways.
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(live_server + path.format(lang=lang))
    scroller = page.locator(".table-scroll:has(.sticky-names)").last
    name = scroller.locator('.sticky-names tbody th[scope="row"]').first
    name.scroll_into_view_if_needed()
    assert scroller.evaluate("e => e.scrollWidth > e.clientWidth")
    before = name.bounding_box()
    scroller.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    assert scroller.evaluate("e => e.scrollLeft > 0")
    after = name.bounding_box()
    frame = scroller.bounding_box()
    # The name cell has not moved and is still inside the visible part of the box.
    assert abs(after["x"] - before["x"]) < 1
    assert frame["x"] - 1 <= after["x"] and after["x"] + after["width"] <= frame["x"] + \
        frame["width"]
    # ...and is drawn above the figures that slid under it.
    top = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('th') !== null",
        [after["x"] + 5, after["y"] + after["height"] / 2])
    assert top
    context.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_on_a_phone_each_department_is_a_card_and_nothing_scrolls_sideways(
        live_server, phone, lang):
    response = phone.goto(f"{live_server}/{lang}/accountability")
    assert response is not None and response.status == 200
    assert phone.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    rows = phone.locator(".key-table tbody tr")
    assert rows.count() > 3
    first = rows.first
    assert first.evaluate("e => getComputedStyle(e).display") == "block"
    card = first.bounding_box()
    assert card["width"] <= PHONE["width"]
    # The card names each figure: the column's name is drawn before its value.
    label = first.locator("td").first.evaluate(
        "e => getComputedStyle(e, '::before').content")
    assert label.strip('"')
    # The headings are a row of sort links above the cards, still usable on a phone.
    on_time = phone.locator('.key-table thead a[href*="sort=on_time"]')
    assert on_time.is_visible()
    box = on_time.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert axe_violations(phone) == []


def test_a_commission_filters_the_table_without_javascript(live_server, no_js_page):
    no_js_page.goto(f"{live_server}/en/accountability")
    every = no_js_page.locator(".key-table tbody tr").count()
    no_js_page.get_by_label("DPRD commission").select_option("I")
    no_js_page.get_by_role("button", name="Show").click()
    # The click returns once the filtered page starts loading: count its rows when it is
    # there (count() does not wait; under load it counted a page still being parsed).
    no_js_page.wait_for_load_state()
    assert "commission=I" in no_js_page.url
    shown = no_js_page.locator(".key-table tbody tr").count()
    assert 0 < shown < every
    assert no_js_page.locator(".key-table tbody td.col-commission").all_inner_texts() == [
        "I"] * shown
