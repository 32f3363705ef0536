"""robots.txt, sitemap.xml, the favicon and the touch icon; the heads of the pages."""

from __future__ import annotations

import json
import re
import urllib.robotparser
from html.parser import HTMLParser
from io import BytesIO
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest
from PIL import Image
from sqlalchemy import select

from portal.extensions import db
from portal.models import Incident, User
from portal.services.metrics.incidents import incident_open
from portal.web.urls import absolute_url_for
from tests.factories import create_department, create_user, login
from tests.wfa_support import create_due_service

BASE = "https://pantau.kalteng.go.id"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
ADMIN = User(username="admin", role="admin", department_id=None, is_active=True)


@pytest.fixture(autouse=True)
def base_url(app, monkeypatch):
    """The portal's configured public address."""
    monkeypatch.setitem(app.config, "PORTAL_BASE_URL", BASE)


@pytest.fixture
def catalogue(app):
    """Two departments, three services (one with an online channel), one incident."""
    health = create_department(code="dinkes", name_id="Dinas Kesehatan",
                               name_en="Health Office")
    revenue = create_department(code="bapenda", name_id="Badan Pendapatan Daerah",
                                name_en="Regional Revenue Agency")
    create_due_service(department=health, code="izin-klinik", name_id="Izin Klinik",
                       name_en="Clinic permit")
    create_due_service(department=revenue, code="samsat-pkb", name_id="Pembayaran PKB",
                       name_en='Vehicle tax "PKB" </script><b>',
                       online_url="https://samsat.example.go.id/")
    create_due_service(department=revenue, code="samsat-bbn", name_id="Balik Nama")
    incident_open(ADMIN, ["samsat-pkb"], "minor", "Antrean", "Queue", "Lambat.", "Slow.")


def local(address: str) -> str:
    """Return the path and query of an absolute address of the portal."""
    assert address.startswith(f"{BASE}/"), address
    parts = urlsplit(address)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sitemap_entries(client) -> dict[str, dict[str, str]]:
    """Return {loc: {hreflang: href}} of the sitemap."""
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    urlset = ET.fromstring(response.data)
    return {
        url.findtext(f"{SITEMAP}loc"): {
            link.get("hreflang"): link.get("href") for link in url.iter(f"{XHTML}link")
        }
        for url in urlset.iter(f"{SITEMAP}url")
    }


class _Head(HTMLParser):
    """Collect the <link> and <meta> tags and JSON-LD scripts of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict] = []
        self.metas: dict[str, str] = {}
        self.json_ld: list[str] = []
        self._in_json = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "link":
            self.links.append(values)
        elif tag == "meta" and ("property" in values or "name" in values):
            self.metas[values.get("property") or values["name"]] = values.get("content", "")
        elif tag == "script" and values.get("type") == "application/ld+json":
            self._in_json = True
            self.json_ld.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_json = False

    def handle_data(self, data):
        if self._in_json:
            self.json_ld[-1] += data


def head(client, path: str) -> _Head:
    """GET a page that must answer 200 and parse its head."""
    response = client.get(path)
    assert response.status_code == 200, path
    parser = _Head()
    parser.feed(response.get_data(as_text=True))
    return parser


# The sitemap ----------------------------------------------------------------------------------


def test_sitemap_lists_every_public_page_in_both_languages(client, catalogue):
    entries = sitemap_entries(client)
    paths = {local(loc) for loc in entries}

    for lang in ("id", "en"):
        assert {f"/{lang}/", f"/{lang}/services", f"/{lang}/departments",
                f"/{lang}/incidents", f"/{lang}/accountability", f"/{lang}/data",
                f"/{lang}/developers", f"/{lang}/how-we-measure", f"/{lang}/feedback",
                f"/{lang}/services/izin-klinik", f"/{lang}/services/samsat-pkb",
                f"/{lang}/services/samsat-bbn", f"/{lang}/departments/dinkes",
                f"/{lang}/departments/bapenda",
                f"/{lang}/accountability/departments/bapenda"} <= paths
    assert not [p for p in paths if re.search(r"/staff|/track|/feedback/new|/survey|\.atom$"
                                              r"|/live$", p)]


def test_every_sitemap_page_answers_200_and_is_a_page_of_the_url_map(app, client, catalogue):
    adapter = app.url_map.bind("pantau.kalteng.go.id")
    for loc in sitemap_entries(client):
        path = local(loc)
        endpoint, _values = adapter.match(path, method="GET")
        assert not endpoint.startswith(("staff.", "api.", "feeds.")), path
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "text/html", path


def test_sitemap_covers_every_public_page_route_of_the_url_map(app, client, catalogue):
    from portal.web.indexing import PRIVATE_BLUEPRINTS, UNLISTED_ENDPOINTS

    adapter = app.url_map.bind("pantau.kalteng.go.id")
    listed = {adapter.match(local(loc), method="GET")[0] for loc in sitemap_entries(client)}
    public_routes = {
        rule.endpoint for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and rule.arguments == {"lang"}
        and "." not in rule.rule.rsplit("/", 1)[-1]  # files: feeds, PDFs
        and rule.endpoint.split(".")[0] not in PRIVATE_BLUEPRINTS
        and rule.endpoint not in UNLISTED_ENDPOINTS
    }
    assert public_routes <= listed


def test_sitemap_hreflang_pairs_are_consistent(client, catalogue):
    entries = sitemap_entries(client)

    for loc, alternates in entries.items():
        assert set(alternates) == {"id", "en", "x-default"}, loc
        assert alternates["x-default"] == alternates["id"]
        lang = local(loc).split("/")[1]
        assert alternates[lang] == loc
        # Every alternate is itself listed, naming the same set of alternates.
        for code in ("id", "en"):
            assert entries[alternates[code]] == alternates, loc
        assert local(alternates["en"])[3:] == local(alternates["id"])[3:]


def test_sitemap_addresses_ignore_the_host_header(client, catalogue):
    body = client.get("/sitemap.xml", headers={"Host": "evil.example"}).get_data(as_text=True)

    assert "evil.example" not in body


def test_sitemap_addresses_are_those_of_url_for_whatever_the_code_and_base(
        app, client, catalogue, monkeypatch):
    # A base address and a code with characters to escape in XML or to quote in a URL.
    monkeypatch.setitem(app.config, "PORTAL_BASE_URL", "https://pantau.example/a&b<c>")
    create_due_service(code="izin klinik/ü&1")
    entries = sitemap_entries(client)

    incident_id = db.session.scalar(select(Incident.id))
    with app.test_request_context():
        incident = absolute_url_for("incidents.detail", lang="en", incident_id=incident_id)
        for code in ("izin-klinik", "izin klinik/ü&1"):
            pair = {lang: absolute_url_for("public.service", lang=lang, code=code)
                    for lang in ("id", "en")}
            assert entries[pair["en"]] == {**pair, "x-default": pair["id"]}
    assert "https://pantau.example/a&b<c>/en/services/izin%20klinik/%C3%BC&1" in entries
    assert incident == f"https://pantau.example/a&b<c>/en/incidents/{incident_id}"
    assert incident in entries


# robots.txt and the icons ---------------------------------------------------------------------


def test_robots_allows_public_pages_and_refuses_private_ones(client, catalogue):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert f"Sitemap: {BASE}/sitemap.xml" in text.splitlines()
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(text.splitlines())
    for loc in sitemap_entries(client):
        assert robots.can_fetch("*", loc), loc
    for path in ("/id/staff/", "/en/staff/login", "/id/track", "/en/track?code=ABC",
                 "/id/feedback/new", "/en/feedback/ABCD-EFGH-JKMN", "/api/v1/feedback",
                 "/api/v1/service-requests", "/open311/v2/requests.json", "/id/subscribe",
                 "/en/unsubscribe/TOKEN", "/id/subscriptions/confirm/TOKEN"):
        assert not robots.can_fetch("*", f"{BASE}{path}"), path
    assert robots.can_fetch("*", f"{BASE}/en/feedback/published/3")


@pytest.mark.parametrize(("path", "mimetype", "size"), [
    ("/favicon.ico", "image/vnd.microsoft.icon", (48, 48)),
    ("/apple-touch-icon.png", "image/png", (180, 180)),
])
def test_icons_are_served_at_the_root_without_a_redirect(client, app, path, mimetype, size):
    response = client.get(path)

    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert Image.open(BytesIO(response.data)).size == size
    assert response.cache_control.max_age >= 3600
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("path", ["/robots.txt", "/sitemap.xml", "/favicon.ico"])
def test_root_files_set_no_language_cookie(client, app, path):
    assert "Set-Cookie" not in client.get(path).headers


# The head of every page -----------------------------------------------------------------------


PAGES = ["/id/", "/en/services", "/id/services/samsat-pkb", "/en/departments/bapenda",
         "/en/incidents", "/id/data", "/en/developers", "/id/accountability"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_names_its_canonical_address_and_its_languages(client, catalogue, path):
    parsed = head(client, path)

    canonical = [link["href"] for link in parsed.links if link.get("rel") == "canonical"]
    assert canonical == [f"{BASE}{path}"]
    alternates = {link["hreflang"]: link["href"] for link in parsed.links
                  if link.get("rel") == "alternate" and "hreflang" in link}
    rest = path[3:]
    assert alternates == {"id": f"{BASE}/id{rest}", "en": f"{BASE}/en{rest}",
                          "x-default": f"{BASE}/id{rest}"}
    icons = {link["rel"]: link["href"] for link in parsed.links
             if link.get("rel") in ("icon", "apple-touch-icon")}
    assert icons["apple-touch-icon"] == "/apple-touch-icon.png"


def test_canonical_address_drops_filters_but_keeps_the_page_number(client, catalogue):
    parsed = head(client, "/en/services?q=klinik&page=2")

    canonical = [link["href"] for link in parsed.links if link.get("rel") == "canonical"]
    assert canonical == [f"{BASE}/en/services?page=2"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_sharing_tags(client, catalogue, path):
    metas = head(client, path).metas

    lang = path.split("/")[1]
    assert metas["og:site_name"] == "Pantau Layanan"
    assert metas["og:url"] == f"{BASE}{path}"
    assert metas["og:locale"] == {"id": "id_ID", "en": "en_US"}[lang]
    assert metas["og:locale:alternate"] == {"id": "en_US", "en": "id_ID"}[lang]
    assert metas["og:title"] and metas["og:description"]
    assert metas["twitter:card"] == "summary"
    assert metas["og:image"].startswith(f"{BASE}/static/")


def test_a_shared_service_link_shows_its_status_sentence(client, catalogue):
    metas = head(client, "/en/services/izin-klinik").metas

    assert metas["og:title"] == "Clinic permit"
    assert metas["og:description"] == metas["description"] == metas["twitter:description"]
    assert metas["og:description"] == (
        "Status: No data. The department has not reported on this service yet, so its "
        "performance cannot be shown.")


def test_a_shared_department_link_counts_its_services_by_status(client, catalogue):
    metas = head(client, "/en/departments/bapenda").metas

    assert metas["og:title"] == "Regional Revenue Agency"
    assert metas["og:description"] == metas["description"] == metas["twitter:description"]
    # Silence is counted as such, never as health.
    assert metas["og:description"] == (
        "Regional Revenue Agency: 2 services. By status over the last 30 days: 0 meeting "
        "their commitment, 0 at risk, 0 breaching, 0 disrupted, 0 with not enough data, "
        "2 with no data.")


def test_service_page_describes_itself_as_a_government_service(client, catalogue):
    response = client.get("/en/services/samsat-pkb")
    html = response.get_data(as_text=True)
    parsed = _Head()
    parsed.feed(html)

    [raw] = parsed.json_ld
    # The name holds "</script>": escaped, it cannot end the script element early.
    assert "</script><b>" not in raw
    data = json.loads(raw)
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "GovernmentService"
    assert data["name"] == 'Vehicle tax "PKB" </script><b>'
    assert data["url"] == f"{BASE}/en/services/samsat-pkb"
    assert data["provider"] == {"@type": "GovernmentOrganization",
                                "name": "Regional Revenue Agency",
                                "url": f"{BASE}/en/departments/bapenda"}
    assert data["areaServed"]["@type"] == "AdministrativeArea"
    assert data["availableChannel"]["serviceUrl"] == "https://samsat.example.go.id/"
    # The page's policy runs only the portal's own scripts; JSON-LD is data, not script.
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_error_pages_name_no_canonical_address(client, catalogue):
    response = client.get("/en/services/no-such-service")
    parsed = _Head()
    parsed.feed(response.get_data(as_text=True))

    assert response.status_code == 404
    assert not [link for link in parsed.links if link.get("rel") == "canonical"]
    assert "og:url" not in parsed.metas


def test_staff_pages_ask_not_to_be_indexed(client, catalogue):
    admin = create_user("admin")
    login(client, admin.username)

    metas = head(client, "/en/staff/").metas
    public = head(client, "/en/services").metas

    assert metas["robots"] == "noindex"
    assert "robots" not in public
