"""The layout parts every page repeats (brand, main navigation, footer), rendered once per
language and process: each reader still gets them in the page's language, and the footer's
staff link follows whether a staff member is logged in."""

from __future__ import annotations

import re

from tests.factories import create_user, login


def _nav_and_footer(html: str) -> tuple[str, str]:
    nav = re.search(r'<nav class="wrap main-nav".*?</nav>', html, re.S).group(0)
    footer = re.search(r'<footer class="site-footer">.*?</footer>', html, re.S).group(0)
    return nav, footer


def test_each_language_gets_its_own_navigation_and_footer(client):
    for _round in range(2):  # the second round reads what the first kept
        id_nav, id_footer = _nav_and_footer(client.get("/id/incidents").get_data(as_text=True))
        en_nav, en_footer = _nav_and_footer(client.get("/en/incidents").get_data(as_text=True))
        assert 'href="/id/services"' in id_nav and "Sampaikan laporan" in id_nav
        assert 'href="/en/services"' in en_nav and "Give feedback" in en_nav
        assert "Semua waktu dalam Waktu Indonesia Barat (WIB)." in id_footer
        assert "All times are Western Indonesia Time (WIB)." in en_footer
        assert 'href="/id/staff/login"' in id_footer and 'href="/en/staff/login"' in en_footer


def test_the_staff_login_link_leaves_the_footer_of_a_logged_in_staff_member(app, client):
    visitor = app.test_client()
    assert "/en/staff/login" in _nav_and_footer(visitor.get("/en/incidents").get_data(
        as_text=True))[1]
    assert login(client, create_user(role="admin").username).status_code == 302
    staff_footer = _nav_and_footer(client.get("/en/incidents").get_data(as_text=True))[1]
    assert "Staff login" not in staff_footer and "Open data" in staff_footer
    # ... and is still there for the visitor served after the staff member.
    assert "/en/staff/login" in _nav_and_footer(visitor.get("/en/incidents").get_data(
        as_text=True))[1]
