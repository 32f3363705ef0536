"""The Atom feeds of a service, a department and the province, read by a real feed parser."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from xml.etree import ElementTree as ET

import feedparser
import pytest
from flask import g
from flask_babel import gettext
from sqlalchemy import select

from portal.domain.calendar import utc_now, wib_date
from portal.extensions import db
from portal.models import ServiceStatusChange, User
from portal.services.metrics.incidents import incident_open, incident_update, maintenance_schedule
from portal.services.metrics.status import status_refresh
from tests.conftest import a_second_later
from tests.factories import create_department
from tests.wfa_support import create_due_service, ingest, requests_due

BASE = "https://pantau.kalteng.go.id"
# A username that looks like a person: it must never appear in a feed.
STAFF = User(username="siti.rahmawati", role="admin", department_id=None, is_active=True)
CREATED = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def base_url(app, monkeypatch):
    """The portal's configured public address."""
    monkeypatch.setitem(app.config, "PORTAL_BASE_URL", BASE)


@pytest.fixture
def world(app):
    """A department with two services: one whose status changed as reports came in over four
    days, then an outage, and planned maintenance; the other quiet."""
    department = create_department(code="bapenda", name_id="Badan Pendapatan Daerah",
                                   name_en="Regional Revenue Agency")
    pkb = create_due_service(department=department, code="samsat-pkb",
                             name_id="Pembayaran PKB", name_en="Vehicle tax payment")
    quiet = create_due_service(department=department, code="samsat-bbn",
                               name_id="Balik Nama", name_en="Change of ownership")
    now = utc_now()
    today = wib_date(now)

    def report(days_ago: int, first: int, last: int, on_time: int = 0, late: int = 0):
        items = []
        for offset in range(first, last + 1):
            items += requests_due(pkb, today + timedelta(days=offset), on_time=on_time,
                                  late=late)
        ingest(department, items, now=now - timedelta(days=days_ago))

    # Each report stores the status; a stored status that changes is recorded.
    report(4, -20, -16, on_time=1)  # 5 due: not enough data (a first evaluation: no change)
    report(3, -15, -6, on_time=2)  # 25 of 25 on time: meeting
    report(2, -20, -6, late=2)  # 25 on time of 55 (45%): breaching
    report(1, -20, -6, on_time=8)  # 145 of 175 (82.9%): at risk
    outage = incident_open(STAFF, [pkb.code], "outage", "SAMSAT daring mati",
                           "Online SAMSAT down", "Sedang diperiksa.", "Being checked.",
                           now=now - timedelta(hours=2))
    status_refresh([pkb.id, quiet.id], now=now - timedelta(hours=1))  # disrupted
    starts = now + timedelta(days=2)
    maintenance = maintenance_schedule(
        STAFF, [pkb.code], starts, starts + timedelta(hours=3), "Pemeliharaan server",
        "Server maintenance", "Pembayaran daring tidak tersedia.", "Online payment is off.",
    )
    return SimpleNamespace(department=department, pkb=pkb, quiet=quiet, outage=outage,
                           maintenance=maintenance, today=today, now=now)


def parse(client, path: str, **headers):
    """GET a feed that must answer 200 as Atom, and parse it with feedparser."""
    response = client.get(path, headers=headers)
    assert response.status_code == 200, path
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed, response


def kinds(feed) -> list[str]:
    """Return the category term of each entry, in feed order."""
    return [entry.tags[0].term for entry in feed.entries]


def recorded(service) -> list[ServiceStatusChange]:
    """Return the status changes recorded for a service, newest first."""
    return list(db.session.scalars(
        select(ServiceStatusChange).where(ServiceStatusChange.service_id == service.id)
        .order_by(ServiceStatusChange.changed_at.desc())
    ))


def test_service_feed_lists_status_changes_incidents_and_maintenance(client, world):
    feed, _ = parse(client, "/en/services/samsat-pkb/feed.atom")

    assert feed.feed.title == ("Vehicle tax payment: status, incidents and maintenance · "
                               "Pantau Layanan")
    assert feed.feed.id == f"{BASE}/en/services/samsat-pkb"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {"self": f"{BASE}/en/services/samsat-pkb/feed.atom",
                     "alternate": f"{BASE}/en/services/samsat-pkb"}
    assert set(kinds(feed)) == {"outage", "maintenance", "status-meeting", "status-at_risk",
                                "status-breaching", "status-disrupted"}
    status = [e for e in feed.entries if e.tags[0].term.startswith("status-")]
    # Newest first, one entry per recorded change (the first evaluation is none).
    assert [e.title for e in status] == [
        "Vehicle tax payment: Disrupted",
        "Vehicle tax payment: At risk",
        "Vehicle tax payment: Breaching its commitment",
        "Vehicle tax payment: Meeting its commitment",
    ]
    breached = status[2]
    row = recorded(world.pkb)[2]
    assert (row.from_status, row.to_status) == ("meeting", "breaching")
    assert breached.id == f"tag:pantau.kalteng.go.id,2026:status-changes/{row.id}"
    assert breached.link == f"{BASE}/en/services/samsat-pkb"
    # Dated when it was recorded, and worded as the mail to subscribers.
    assert breached.updated == (world.now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert breached.summary.startswith(
        'Status changed from "Meeting its commitment" to "Breaching its commitment".\n\n'
        "Only 45.5% of the 55 requests due over the 30 days to ")
    assert "the commitment is breached" in breached.summary
    outage = next(e for e in feed.entries if e.tags[0].term == "outage")
    assert outage.link == f"{BASE}/en/incidents/{world.outage.id}"
    maintenance = next(e for e in feed.entries if e.tags[0].term == "maintenance")
    assert maintenance.title == "Planned maintenance: Server maintenance"
    assert "Online payment is off." in maintenance.summary
    # Every entry is dated, and the feed by its newest entry.
    updated = [e.updated_parsed for e in feed.entries]
    assert all(updated) and updated == sorted(updated, reverse=True)
    assert feed.feed.updated_parsed == updated[0]


def test_status_entries_are_the_recorded_changes_subscribers_are_told_of(client, world):
    feed, _ = parse(client, "/en/services/samsat-pkb/feed.atom")

    ids = [e.id for e in feed.entries if e.tags[0].term.startswith("status-")]
    assert ids == [f"tag:pantau.kalteng.go.id,2026:status-changes/{row.id}"
                   for row in recorded(world.pkb)]


def test_entry_ids_are_stable_between_polls(client, world):
    first, _ = parse(client, "/en/services/samsat-pkb/feed.atom")
    again, _ = parse(client, "/en/services/samsat-pkb/feed.atom")

    ids = [entry.id for entry in first.entries]
    assert ids == [entry.id for entry in again.entries]
    assert len(set(ids)) == len(ids)


def test_service_feed_in_indonesian(client, world):
    feed, _ = parse(client, "/id/services/samsat-pkb/feed.atom")

    assert feed.feed.language == "id"
    titles = [entry.title for entry in feed.entries]
    assert "SAMSAT daring mati" in titles
    assert "Online SAMSAT down" not in titles


def test_department_feed_covers_its_services(client, world):
    feed, _ = parse(client, "/en/departments/bapenda/feed.atom")

    assert feed.feed.id == f"{BASE}/en/departments/bapenda"
    assert feed.feed.title.startswith("Regional Revenue Agency: ")
    assert {"outage", "maintenance", "status-breaching"} <= set(kinds(feed))


def test_province_feed_includes_maintenance_and_honours_the_service_filter(client, world):
    other = create_due_service(code="izin-klinik", name_en="Clinic permit")
    incident_open(STAFF, [other.code], "minor", "Antrean", "Queue", "Lambat.", "Slow.")

    everything, _ = parse(client, "/en/incidents.atom")
    filtered, _ = parse(client, "/en/incidents.atom?service=samsat-pkb")
    unknown, _ = parse(client, "/en/incidents.atom?service=no-such-service")

    assert sorted(kinds(everything)) == ["maintenance", "minor", "outage"]
    assert sorted(kinds(filtered)) == ["maintenance", "outage"]
    assert {link.rel: link.href for link in filtered.feed.links}["self"] == (
        f"{BASE}/en/incidents.atom?service=samsat-pkb")
    assert unknown.entries == []


def test_unknown_service_or_department_feed_is_not_found(client, world):
    assert client.get("/en/services/no-such-service/feed.atom").status_code == 404
    assert client.get("/en/departments/no-such-department/feed.atom").status_code == 404


@pytest.mark.parametrize("path", ["/en/services/samsat-pkb/feed.atom",
                                  "/id/departments/bapenda/feed.atom",
                                  "/en/incidents.atom"])
def test_unchanged_feed_answers_304_to_either_validator(client, world, path):
    _, first = parse(client, path)

    by_etag = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    by_date = client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})

    assert (by_etag.status_code, by_etag.data) == (304, b"")
    assert (by_date.status_code, by_date.data) == (304, b"")


@pytest.mark.parametrize("path", ["/en/services/samsat-bbn/feed.atom",
                                  "/en/incidents.atom?service=samsat-bbn"])
def test_empty_feed_is_dated_by_the_catalogue_not_the_clock(client, world, path):
    # The quiet service never reported and has no incident: nothing to tell.
    for row in (world.quiet, world.department, world.pkb):
        row.created_at = CREATED
    for change in [*world.quiet.work_mode_history, *world.quiet.commitment_history]:
        change.recorded_at = CREATED
    db.session.commit()

    feed, first = parse(client, path)
    time.sleep(1.1)  # a clock-dated feed would now read differently
    _, again = parse(client, path)

    assert feed.entries == []
    if "services/" in path:
        assert feed.feed.updated == "2026-01-05T02:00:00Z"
        assert first.headers["Last-Modified"] == "Mon, 05 Jan 2026 02:00:00 GMT"
    assert again.data == first.data
    assert again.headers["ETag"] == first.headers["ETag"]
    for headers in ({"If-None-Match": first.headers["ETag"]},
                    {"If-Modified-Since": first.headers["Last-Modified"]}):
        assert client.get(path, headers=headers).status_code == 304


@pytest.mark.parametrize("path", ["/en/services/samsat-pkb/feed.atom",
                                  "/en/departments/bapenda/feed.atom"])
def test_a_late_report_rewrites_no_entry_and_a_new_change_is_a_new_entry(client, world, path):
    feed, first = parse(client, path)
    time.sleep(1.1)  # Last-Modified counts whole seconds
    # Late reports for past days: the status stays "disrupted" while the outage is open, and
    # what was recorded before stays as it was. The feed reads the same.
    items = []
    for offset in range(-20, -5):
        items += requests_due(world.pkb, world.today + timedelta(days=offset), on_time=20)
    ingest(world.department, items)
    for headers in ({"If-None-Match": first.headers["ETag"]},
                    {"If-Modified-Since": first.headers["Last-Modified"]}):
        assert client.get(path, headers=headers).status_code == 304

    # The outage ends; the next evaluation records the change out of "disrupted".
    incident_update(STAFF, world.outage.id, "resolved", "Pulih.", "Back.")
    status_refresh([world.pkb.id])

    changed, again = parse(client, path)
    assert changed.entries[0].title == "Vehicle tax payment: Meeting its commitment"
    assert changed.entries[0].summary.startswith(
        'Status changed from "Disrupted" to "Meeting its commitment".')
    # Nothing published before is lost or rewritten.
    before = {e.id: e.summary for e in feed.entries if e.tags[0].term.startswith("status-")}
    assert {e.id: e.summary for e in changed.entries if e.id in before} == before
    for headers in ({"If-None-Match": first.headers["ETag"]},
                    {"If-Modified-Since": first.headers["Last-Modified"]}):
        assert client.get(path, headers=headers).status_code == 200
    assert client.get(path, headers={"If-Modified-Since": again.headers["Last-Modified"]}
                      ).status_code == 304


def test_feeds_carry_no_personal_data(client, world):
    for path in ("/en/services/samsat-pkb/feed.atom", "/id/departments/bapenda/feed.atom",
                 "/en/incidents.atom"):
        body = client.get(path).get_data(as_text=True)
        assert "siti" not in body.lower() and "rahmawati" not in body.lower(), path
        assert not re.search(r"[\w.]+@[\w.]+", body), path


def test_pages_with_a_feed_announce_it(client, world):
    for page, feed in (
        ("/en/services/samsat-pkb", "/en/services/samsat-pkb/feed.atom"),
        ("/id/departments/bapenda", "/id/departments/bapenda/feed.atom"),
        ("/en/incidents", "/en/incidents.atom"),
        ("/en/incidents?service=samsat-pkb", "/en/incidents.atom?service=samsat-pkb"),
    ):
        html = client.get(page).get_data(as_text=True)
        assert re.search(r'<link rel="alternate" type="application/atom\+xml" '
                         rf'href="{re.escape(feed)}" title="[^"]+">', html), page


def test_service_and_department_pages_link_their_feed_visibly(client, world):
    for page, feed in (("/en/services/samsat-pkb", "/en/services/samsat-pkb/feed.atom"),
                       ("/id/departments/bapenda", "/id/departments/bapenda/feed.atom")):
        html = client.get(page).get_data(as_text=True)
        # Not only in the head: a reader without autodiscovery sees and follows the link.
        assert re.search(rf'<a href="{re.escape(feed)}" type="application/atom\+xml">'
                         r'[^<]+</a>', html), page


def test_feeds_set_no_cookie(client, world):
    # A feed is cached publicly and read by programs: the language cookie is for pages.
    response = client.get("/id/services/samsat-pkb/feed.atom")

    assert response.cache_control.public
    assert "Set-Cookie" not in response.headers
    assert "Set-Cookie" in client.get("/id/services/samsat-pkb").headers


@pytest.mark.parametrize("path", ["/en/services/samsat-pkb/feed.atom",
                                  "/en/departments/bapenda/feed.atom", "/en/incidents.atom"])
def test_feeds_come_from_the_page_cache_until_something_in_them_changes(
        client, world, cached, monkeypatch, path):
    from portal.web.public import feeds

    built = []
    real = feeds.cached_body

    def counting(build):
        return real(lambda: built.append(path) or build())

    monkeypatch.setattr(feeds, "cached_body", counting)
    first, response = parse(client, path)
    again, cached_response = parse(client, path)
    assert cached_response.data == response.data
    assert cached_response.headers["Last-Modified"] == response.headers["Last-Modified"]
    assert len(built) == 1

    incident_update(STAFF, world.outage.id, "monitoring", "Perbaikan dipantau.",
                    "A fix is being monitored.")
    a_second_later()

    later, _response = parse(client, path)
    assert len(built) == 2
    assert "A fix is being monitored." in str(later.entries)


ATOM = "http://www.w3.org/2005/Atom"


def element_tree_feed(lang: str, head: tuple, entries: list[tuple]) -> bytes:
    """What the portal wrote before: the feed built and serialised by ElementTree."""
    ET.register_namespace("", ATOM)

    def sub(parent, tag, text=None, **attrs):
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": lang})
    feed_id, title, subtitle, updated, self_url, page_url, author = head
    sub(feed, "id", feed_id)
    sub(feed, "title", title)
    sub(feed, "subtitle", subtitle)
    sub(feed, "updated", updated)
    sub(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    sub(feed, "link", rel="alternate", type="text/html", href=page_url)
    sub(sub(feed, "author"), "name", author)
    for entry_id, title, published, updated, link, term, label, content in entries:
        entry = sub(feed, "entry")
        sub(entry, "id", entry_id)
        sub(entry, "title", title)
        sub(entry, "published", published)
        sub(entry, "updated", updated)
        sub(entry, "link", rel="alternate", type="text/html", href=link)
        sub(entry, "category", term=term, label=label)
        sub(entry, "content", content, type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def test_feeds_are_written_as_element_tree_wrote_them(app):
    from portal.web.public.feeds import _Atom, rfc3339

    when = datetime(2026, 3, 1, 4, 5, 6, 789, tzinfo=UTC)
    later = when + timedelta(hours=1)
    tricky = 'A & B <c> "d" \'e\' \r\n\tf ]]> \u00e9\u2014\U0001F600 \ud800 \x01'
    entries = [
        ("tag:x,2026:a&b", tricky, when, later, f"https://x/?a=1&b={tricky}", f"t{tricky}",
         tricky, f"line\n\n{tricky}"),
        ("https://x/incidents/1", "", when, when, "https://x/", "minor", "", ""),
    ]
    with app.test_request_context("/en/incidents.atom"):
        g.lang = "en"
        atom = _Atom()
        for entry in entries:
            atom.entry(*entry)
        body, updated = atom.document("https://x/&", tricky, "", "https://x/a.atom?s=<>",
                                      "https://x/\"", when)
        author = gettext("Provincial Government of %(province)s",
                         province=app.config["PORTAL_PROVINCE_NAME"])

    # Newest first; the written dates are whole seconds in UTC.
    expected = [(e[0], e[1], rfc3339(e[2]), rfc3339(e[3]), *e[4:])
                for e in sorted(entries, key=lambda e: (e[3], e[0]), reverse=True)]
    head = ("https://x/&", tricky, "", rfc3339(later), "https://x/a.atom?s=<>", "https://x/\"",
            author)
    assert body == element_tree_feed("en", head, expected)
    assert updated == later
