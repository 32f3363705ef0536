"""Public incident pages and the Atom feed, in both languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from xml.etree import ElementTree as ET

import pytest

from portal.domain.calendar import utc_now
from portal.models import User
from portal.services.metrics.incidents import incident_open, incident_update, maintenance_schedule
from tests.conftest import a_second_later
from tests.factories import create_department, create_service

ATOM = "{http://www.w3.org/2005/Atom}"
# A username that looks like a person: it must never appear on a public page or feed.
STAFF = User(username="siti.rahmawati", role="admin", department_id=None, is_active=True)
T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)  # 2 March 2026, 10:00 WIB
BASE = "https://pantau.kalteng.go.id"


@pytest.fixture
def base_url(app, monkeypatch):
    """The portal's configured public address (with a trailing slash, to be trimmed)."""
    monkeypatch.setitem(app.config, "PORTAL_BASE_URL", f"{BASE}/")
    return BASE


@pytest.fixture
def incidents(app):
    """One open outage with two updates, one resolved minor incident, one planned maintenance."""
    department = create_department(name_id="Badan Pendapatan Daerah",
                                   name_en="Regional Revenue Agency")
    pkb = create_service(department=department, code="samsat-pkb", name_id="Pembayaran PKB",
                         name_en="Vehicle tax payment")
    bbn = create_service(department=department, code="samsat-bbn", name_id="Balik Nama",
                         name_en="Change of ownership")
    outage = incident_open(
        STAFF, [pkb.code], "outage", "SAMSAT daring tidak dapat diakses",
        "Online SAMSAT unreachable", "Kami sedang menyelidiki gangguan.",
        "We are investigating the disruption.", now=T0,
    )
    incident_update(STAFF, outage.id, "identified", "Penyebabnya pusat data.",
                    "", now=T0 + timedelta(minutes=40))
    minor = incident_open(
        STAFF, [bbn.code], "minor", "Antrean lambat", "Slow queue",
        "Antrean lebih lambat dari biasa.", "The queue is slower than usual.",
        now=T0 - timedelta(days=3),
    )
    incident_update(STAFF, minor.id, "resolved", "Antrean normal kembali.",
                    "The queue is back to normal.", now=T0 - timedelta(days=3, hours=-2))
    starts = utc_now() + timedelta(days=2)
    maintenance = maintenance_schedule(
        STAFF, [pkb.code], starts, starts + timedelta(hours=3),
        "Pemeliharaan server SAMSAT", "SAMSAT server maintenance",
        "Pembayaran daring tidak tersedia.", "Online payment is unavailable.",
    )
    return SimpleNamespace(pkb=pkb, bbn=bbn, outage=outage, minor=minor,
                           maintenance=maintenance)


def page(client, path: str) -> str:
    """GET a page that must answer 200 and return its text."""
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


# The incidents page ---------------------------------------------------------------------------


def test_incidents_page_in_indonesian_shows_indonesian_content(client, incidents):
    html = page(client, "/id/incidents")

    assert '<html lang="id">' in html
    assert "SAMSAT daring tidak dapat diakses" in html
    assert "Online SAMSAT unreachable" not in html
    assert "Antrean lambat" in html
    assert "Pemeliharaan server SAMSAT" in html
    assert "Pembayaran daring tidak tersedia." in html
    # Open incidents come before the history of resolved ones.
    assert html.index("SAMSAT daring tidak dapat diakses") < html.index("Antrean lambat")


def test_incidents_page_in_english_shows_english_content(client, incidents):
    html = page(client, "/en/incidents")

    assert '<html lang="en">' in html
    assert "Incidents and planned maintenance" in html
    assert "Online SAMSAT unreachable" in html
    assert "SAMSAT daring tidak dapat diakses" not in html
    assert "Outage" in html and "Cause identified" in html
    assert "SAMSAT server maintenance" in html
    assert "Slow queue" in html
    assert html.index("Online SAMSAT unreachable") < html.index("SAMSAT server maintenance")
    assert html.index("SAMSAT server maintenance") < html.index("Slow queue")


def test_incidents_page_filters_by_service(client, incidents):
    html = page(client, "/en/incidents?service=samsat-bbn")

    assert "Slow queue" in html
    assert "Online SAMSAT unreachable" not in html
    assert "SAMSAT server maintenance" not in html


def test_incidents_page_without_incidents_says_so(client, app):
    html = page(client, "/en/incidents")

    assert "No incident is open at the moment." in html
    assert "No maintenance is planned." in html


def test_incidents_page_in_an_unknown_language_is_not_found(client, incidents):
    assert client.get("/fr/incidents").status_code == 404


def test_nav_links_to_the_incidents_page(client, app):
    assert 'href="/en/incidents"' in page(client, "/en/")


def test_incident_titles_are_escaped(client, app):
    service = create_service()
    incident_open(STAFF, [service.code], "major", "<script>alert(1)</script>", "", "Isi", "")

    html = page(client, "/id/incidents")

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# One incident ---------------------------------------------------------------------------------


def test_incident_page_shows_the_timeline_newest_first_in_english(client, incidents):
    html = page(client, f"/en/incidents/{incidents.outage.id}")

    assert "Online SAMSAT unreachable" in html
    assert "Vehicle tax payment" in html
    assert "Not resolved yet" in html
    # The second update has no English text: the Indonesian one is shown, marked as such.
    assert '<span lang="id">Penyebabnya pusat data.</span>' in html
    assert html.index("Penyebabnya pusat data.") < html.index(
        "We are investigating the disruption."
    )
    assert "2 March 2026, 10.00 WIB" in html


def test_incident_page_in_indonesian(client, incidents):
    html = page(client, f"/id/incidents/{incidents.minor.id}")

    assert "Antrean lambat" in html
    assert "Antrean normal kembali." in html
    assert "The queue is back to normal." not in html
    assert "27 Februari 2026" in html


def test_unknown_incident_is_not_found(client, app):
    assert client.get("/en/incidents/999").status_code == 404


@pytest.mark.parametrize("path", ["/id/incidents", "/en/incidents", "/en/incidents.atom"])
def test_no_staff_username_on_public_pages(client, incidents, path):
    assert STAFF.username not in page(client, path)
    assert STAFF.username not in page(client, f"/en/incidents/{incidents.outage.id}")


# The Atom feed --------------------------------------------------------------------------------


def test_atom_feed_is_valid_atom_with_one_entry_per_incident(client, incidents, base_url):
    response = client.get("/en/incidents.atom")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert feed.findtext(f"{ATOM}id") == f"{BASE}/en/incidents"
    assert feed.findtext(f"{ATOM}title")
    assert feed.find(f"{ATOM}author/{ATOM}name").text
    self_link = [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert [link.get("href") for link in self_link] == [f"{BASE}/en/incidents.atom"]
    # The feed changed last when the maintenance was announced (just now).
    maintenance_id = f"tag:pantau.kalteng.go.id,2026:maintenance/{incidents.maintenance.id}"
    maintenance_announced = incidents.maintenance.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert feed.findtext(f"{ATOM}updated") == maintenance_announced

    entries = {e.findtext(f"{ATOM}id"): e for e in feed.findall(f"{ATOM}entry")}
    assert set(entries) == {
        f"{BASE}/en/incidents/{incidents.outage.id}",
        f"{BASE}/en/incidents/{incidents.minor.id}",
        maintenance_id,
    }
    maintenance = entries[maintenance_id]
    assert maintenance.findtext(f"{ATOM}title") == (
        "Planned maintenance: SAMSAT server maintenance")
    assert "Online payment is unavailable." in maintenance.findtext(f"{ATOM}content")
    outage = entries[f"{BASE}/en/incidents/{incidents.outage.id}"]
    assert outage.findtext(f"{ATOM}title") == "Online SAMSAT unreachable"
    assert outage.findtext(f"{ATOM}published") == "2026-03-02T03:00:00Z"
    assert outage.findtext(f"{ATOM}updated") == "2026-03-02T03:40:00Z"
    content = outage.find(f"{ATOM}content")
    assert content.get("type") == "text"
    assert "Impact: Outage. State: Cause identified. Services: Vehicle tax payment." in (
        content.text
    )
    # Only the latest update is in the entry (its English is missing: the Indonesian shows).
    assert "Penyebabnya pusat data." in content.text
    assert "We are investigating" not in content.text
    minor = entries[f"{BASE}/en/incidents/{incidents.minor.id}"]
    assert "The queue is back to normal." in minor.findtext(f"{ATOM}content")


def test_atom_feed_addresses_ignore_the_host_header(client, incidents, base_url):
    response = client.get("/en/incidents.atom", headers={"Host": "evil.example"})

    assert response.status_code == 200
    assert b"evil.example" not in response.data
    feed = ET.fromstring(response.data)
    hrefs = [link.get("href") for link in feed.iter(f"{ATOM}link")]
    ids = [element.text for element in feed.iter(f"{ATOM}id")]
    # Links: self and alternate of the feed, one per entry; ids: the feed's and the entries'
    # (the maintenance, which has no page of its own, has a tag: URI of the portal's host).
    assert (len(hrefs), len(ids)) == (5, 4)
    assert all(address.startswith(f"{BASE}/en/incidents")
               or address.startswith("tag:pantau.kalteng.go.id,") for address in hrefs + ids)


def test_atom_feed_in_indonesian_uses_indonesian_texts(client, incidents):
    feed = ET.fromstring(client.get("/id/incidents.atom").data)

    titles = {e.findtext(f"{ATOM}title") for e in feed.findall(f"{ATOM}entry")}
    assert {"SAMSAT daring tidak dapat diakses", "Antrean lambat"} < titles
    assert not any("SAMSAT server maintenance" in title for title in titles)
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "id"


def test_empty_atom_feed_is_still_valid(client, app):
    feed = ET.fromstring(client.get("/en/incidents.atom").data)

    assert feed.tag == f"{ATOM}feed"
    assert feed.findall(f"{ATOM}entry") == []
    assert feed.findtext(f"{ATOM}updated")


def test_atom_feed_answers_not_modified_to_a_matching_etag(client, incidents):
    first = client.get("/en/incidents.atom")

    again = client.get("/en/incidents.atom", headers={"If-None-Match": first.headers["ETag"]})

    assert again.status_code == 304
    assert again.data == b""


def test_service_filter_is_escaped(client, app):
    html = page(client, "/en/incidents?service=<b>x</b>")

    assert "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


# From the page cache -----------------------------------------------------------------------


def test_incident_pages_come_from_the_page_cache_until_an_incident_changes(
        client, incidents, cached):
    first = page(client, "/en/incidents")
    assert page(client, "/en/incidents") == first
    assert page(client, f"/en/incidents/{incidents.outage.id}")
    page(client, f"/en/incidents/{incidents.outage.id}")
    assert cached.count("public/incidents/index.html") == 1
    assert cached.count("public/incidents/detail.html") == 1

    incident_update(STAFF, incidents.outage.id, "monitoring", "Perbaikan dipantau.",
                    "A fix is being monitored.")
    a_second_later()

    assert "A fix is being monitored." in page(client, f"/en/incidents/{incidents.outage.id}")
    assert "Monitoring a fix" in page(client, "/en/incidents")
    assert cached.count("public/incidents/index.html") == 2
