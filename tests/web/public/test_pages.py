"""Public pages: languages, catalogue pages, errors, health and headers."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import event

from portal.extensions import db
from portal.models import SiteSetting, User
from portal.services.metrics.incidents import incident_open, incident_update
from portal.web.public.live import page_cache
from tests.factories import create_department, create_service


@pytest.fixture
def catalogue(app):
    """A department with an on-site service and a WFA service without English name."""
    department = create_department(code="bapenda", name_id="Badan Pendapatan Daerah",
                                   name_en="Regional Revenue Agency")
    create_service(code="samsat-pkb", name_id="Pembayaran Pajak Kendaraan",
                   name_en="Vehicle tax payment", department=department, work_mode="onsite")
    from datetime import date

    create_service(code="samsat-bbn", name_id="Balik Nama Kendaraan", name_en="",
                   department=department, work_mode="wfa", work_mode_since=date(2026, 7, 1),
                   commitment_value=3)
    return department


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "/id/"),
        ({"Accept-Language": "en-GB,en;q=0.9"}, "/en/"),
        ({"Accept-Language": "id-ID,id;q=0.9,en;q=0.8"}, "/id/"),
        ({"Accept-Language": "fr"}, "/id/"),
    ],
)
def test_bare_root_redirects_by_accept_language_defaulting_to_indonesian(client, headers,
                                                                         expected):
    response = client.get("/", headers=headers)
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_bare_root_prefers_the_language_cookie_over_accept_language(client):
    client.get("/en/")  # visiting a page remembers the language
    response = client.get("/", headers={"Accept-Language": "id"})
    assert response.headers["Location"] == "/en/"


@pytest.mark.parametrize(
    ("path", "lang", "text"),
    [
        ("/id/", "id", "Apakah layanan publik menepati janjinya?"),
        ("/en/", "en", "Are public services keeping their promises?"),
        ("/id/services", "id", "Layanan publik"),
        ("/en/services", "en", "Public services"),
        ("/id/departments", "id", "Perangkat daerah"),
        ("/en/departments", "en", "Departments"),
    ],
)
def test_pages_render_in_the_language_of_the_url(client, catalogue, path, lang, text):
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'<html lang="{lang}">' in html
    assert text in html


def test_language_switch_links_to_the_same_page_in_the_other_language(client, catalogue):
    html = client.get("/id/services/samsat-pkb").get_data(as_text=True)
    assert 'href="/en/services/samsat-pkb"' in html
    html = client.get("/en/services?mode=wfa").get_data(as_text=True)
    assert 'href="/id/services?mode=wfa"' in html


def test_service_page_shows_department_work_mode_and_commitment(client, catalogue):
    html = client.get("/en/services/samsat-bbn").get_data(as_text=True)
    assert "Regional Revenue Agency" in html
    assert "Work from anywhere (WFA)" in html
    assert "since 1 July 2026" in html
    assert "Completed within 3 working days, 90% of requests on time" in html

    html = client.get("/id/services/samsat-bbn").get_data(as_text=True)
    assert "sejak 1 Juli 2026" in html
    assert "Selesai dalam 3 hari kerja, 90% permohonan tepat waktu" in html


def test_missing_english_text_falls_back_to_indonesian_marked_as_such(client, catalogue):
    html = client.get("/en/services/samsat-bbn").get_data(as_text=True)
    assert '<span lang="id">Balik Nama Kendaraan</span>' in html
    assert "(in Indonesian)" in html


def test_service_list_filters_by_work_mode_and_text(client, catalogue):
    html = client.get("/en/services?mode=wfa").get_data(as_text=True)
    assert "samsat-bbn" in html and "/en/services/samsat-pkb" not in html
    html = client.get("/en/services?q=vehicle+tax").get_data(as_text=True)
    assert "/en/services/samsat-pkb" in html and "/en/services/samsat-bbn" not in html
    assert "1 service found" in html


def test_department_page_lists_its_services(client, catalogue):
    html = client.get("/id/departments/bapenda").get_data(as_text=True)
    assert "Badan Pendapatan Daerah" in html
    assert "/id/services/samsat-pkb" in html and "/id/services/samsat-bbn" in html


@pytest.mark.parametrize(("path", "heading", "department"), [
    ("/en/departments/bapenda", "h3", ""),
    ("/en/services?department=bapenda", "h2", '<p class="muted">Regional Revenue Agency</p>'),
])
def test_list_cards_show_each_service_escaped_with_its_work_mode_and_commitment(
    client, catalogue, path, heading, department
):
    # Both lists render their cards in one string (pages.service_card_list): names escaped,
    # a missing English name marked, the work mode's date, the commitment; the department's
    # own page names no department.
    create_service(code="izin-reklame", name_id="Izin <Reklame> & Papan", name_en="",
                   department=catalogue, work_mode="hybrid", work_mode_since=date(2026, 5, 4))
    html = client.get(path).get_data(as_text=True)

    assert (f'<li class="card">\n  <{heading} class="card-title">'
            '<a href="/en/services/izin-reklame"><span lang="id">Izin &lt;Reklame&gt; &amp; '
            'Papan</span> <span class="fallback-note">(in Indonesian)</span></a>'
            f'</{heading}>\n  {department}<p class="status-line">'
            '<span class="badge status-no_data">') in html
    assert ('<span class="badge mode-hybrid">Hybrid</span>\n'
            '  <span class="muted">since 4 May 2026</span></p>\n'
            '  <p class="commitment">Completed within') in html
    assert ('<span class="badge mode-onsite">On-site</span>\n  </p>\n'
            '  <p class="commitment">') in html
    assert html.count('<li class="card">') == 3


def test_department_page_shows_its_open_incidents_of_any_impact_and_no_resolved_one(
    client, catalogue
):
    admin = User(username="admin", role="admin", department_id=None, is_active=True)
    other = create_service(code="lain", department=create_department(code="lain"))

    def banner() -> str:
        page_cache().clear()
        html = client.get("/en/departments/bapenda").get_data(as_text=True)
        found = re.search(r'<section class="incident-banner".*?</section>', html, re.S)
        return found.group(0) if found else ""

    assert banner() == ""
    incident_open(admin, [other.code], "outage", "Lain padam", "Other down", "Isi", "Body")
    assert banner() == ""  # another department's incident
    minor = incident_open(admin, ["samsat-bbn"], "minor", "Lambat", "Slow", "Isi", "Body")
    assert "Slow" in banner() and "impact-minor" in banner()
    incident_update(admin, minor.id, "resolved", "Selesai", "Resolved")
    assert banner() == ""


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/id/services/tidak-ada", "Halaman tidak ditemukan"),
        ("/en/services/none", "Page not found"),
        ("/en/departments/none", "Page not found"),
        ("/fr/", "Halaman tidak ditemukan"),
    ],
)
def test_unknown_pages_answer_a_translated_404(client, path, text):
    response = client.get(path)
    assert response.status_code == 404
    assert text in response.get_data(as_text=True)


def test_a_server_error_shows_the_translated_500_page(database_url):
    from portal import create_app
    from tests.conftest import make_test_config

    app = create_app(make_test_config(SQLALCHEMY_DATABASE_URI=database_url, TESTING=False))

    @app.get("/id/boom-for-test")
    def boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/id/boom-for-test")
    assert response.status_code == 500
    assert "Terjadi kesalahan" in response.get_data(as_text=True)


def test_demo_notice_appears_on_every_page_only_when_demo_data_is_loaded(client, catalogue):
    assert "Demo data." not in client.get("/en/").get_data(as_text=True)
    db.session.add(SiteSetting(key="demo_data", value="1"))
    db.session.commit()
    for path in ("/en/", "/en/services", "/en/services/samsat-pkb", "/en/departments"):
        assert "Demo data." in client.get(path).get_data(as_text=True)
    assert "Data demo." in client.get("/id/").get_data(as_text=True)


@pytest.mark.parametrize("cache_on", [False, True])
def test_the_demo_notice_leaves_when_demo_data_is_removed(app, client, catalogue, cache_on):
    app.config["PORTAL_PAGE_CACHE_SECONDS"] = 60 if cache_on else 0
    page_cache().clear()
    try:
        flag = SiteSetting(key="demo_data", value="1")
        db.session.add(flag)
        db.session.commit()
        assert "Demo data." in client.get("/en/departments").get_data(as_text=True)
        db.session.delete(flag)
        db.session.commit()
        page_cache().clear()  # the cache's one-second reuse of the data version
        assert "Demo data." not in client.get("/en/departments").get_data(as_text=True)
        assert "Demo data." not in client.get("/en/services").get_data(as_text=True)
    finally:
        app.config["PORTAL_PAGE_CACHE_SECONDS"] = 0
        page_cache().clear()


def _statements_noted(note_if) -> tuple[list[str], object]:
    asked: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if note_if(statement):
            asked.append(statement)

    return asked, note


@pytest.mark.parametrize("cache_on", [False, True])
def test_pages_read_the_demo_flag_with_the_data_version(app, client, catalogue, cache_on):
    # The statement that reads the data version also says whether demo data is loaded: the
    # pages that read the version (those with a live script) never ask for the flag apart.
    alone, note = _statements_noted(
        lambda statement: "FROM site_setting" in statement and "WHERE site_setting" in statement)
    app.config["PORTAL_PAGE_CACHE_SECONDS"] = 60 if cache_on else 0
    page_cache().clear()
    db.session.add(SiteSetting(key="demo_data", value="1"))
    db.session.commit()
    event.listen(db.engine, "before_cursor_execute", note)
    try:
        for path in ("/en/", "/en/services", "/en/departments"):
            assert "Demo data." in client.get(path).get_data(as_text=True)
        for path in ("/id/", "/id/departments"):
            assert "Data demo." in client.get(path).get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
        app.config["PORTAL_PAGE_CACHE_SECONDS"] = 0
        page_cache().clear()
    assert alone == []


@pytest.mark.parametrize("cache_on", [False, True])
def test_a_page_reads_the_data_version_only_to_check_a_kept_copy(app, client, catalogue,
                                                                  cache_on):
    # The accountability table has no live refresh: with nothing kept (cache off), the
    # version statement (maxima over a dozen tables) would be work for nothing: not run.
    asked, note = _statements_noted(lambda statement: "FROM service_status)" in statement)
    app.config["PORTAL_PAGE_CACHE_SECONDS"] = 60 if cache_on else 0
    page_cache().clear()
    event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert client.get("/en/accountability").status_code == 200
        assert client.get("/api/v1/accountability").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
        app.config["PORTAL_PAGE_CACHE_SECONDS"] = 0
        page_cache().clear()
    assert len(asked) == (1 if cache_on else 0)  # cache on: read once, reused a second


def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_answers_503_when_the_database_does_not(tmp_path):
    from portal import create_app
    from tests.conftest import make_test_config

    broken = create_app(make_test_config(
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:9/none"
    ))
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}


def test_pages_send_security_headers(client):
    response = client.get("/en/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_static_files_have_fingerprinted_urls_and_far_future_caching(client):
    html = client.get("/en/").get_data(as_text=True)
    css_url = re.search(r'href="(/static/[0-9a-f]{12}/css/portal\.css)"', html).group(1)
    response = client.get(css_url)
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "immutable" in response.headers["Cache-Control"]


@pytest.mark.parametrize(
    "query", ["?_method=POST", "?_external=1&_scheme=https", "?_anchor=x", "?lang=fr"]
)
def test_language_switch_ignores_query_names_that_would_steer_url_building(client, catalogue,
                                                                            query):
    response = client.get(f"/en/services{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="/id/services"' in html


def test_a_form_without_csrf_token_gets_a_translated_explanation(client, catalogue):
    response = client.post("/id/staff/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<html lang="id">' in html
    assert "The CSRF token is missing" not in html


def test_a_wrong_method_gets_a_translated_page_and_json_on_the_api(client, catalogue):
    page = client.delete("/en/services")
    assert page.status_code == 405
    assert "does not accept that kind of request" in page.get_data(as_text=True)
    api = client.delete("/api/v1/services")
    assert api.status_code == 405
    assert api.mimetype == "application/problem+json"
    assert api.get_json()["type"].endswith("#problem-method-not-allowed")
    assert "GET" in api.headers["Allow"]


def test_a_too_large_body_is_refused_with_a_translated_message(app, client, catalogue):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        response = client.post("/en/feedback/new", data={"x": "y" * 5000})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
