"""Atom 1.0 feeds: a service's and a department's news, and the province's incidents.

Entries: the recorded status changes of services (the ones subscribers are mailed about, see
portal/services/opendata/feeds.py), incidents with their latest update, and planned
maintenance. Addresses come from PORTAL_BASE_URL, never from the Host header: feeds are cached
publicly. The publisher is the government, never the member of staff who wrote an update.

Feed readers poll: every feed answers with an ETag (a digest of its body) and Last-Modified,
so an unchanged feed, empty or not, answers a conditional request with 304. The ETag decides
when the reader sends it. Last-Modified is the later of the feed's ``<updated>`` (its newest
entry or, when empty, the catalogue's last change) and the catalogue's last change. The body
and that time are kept by the page cache while the public data version holds (it counts the
status evaluations that record changes, incidents, updates, maintenance and catalogue edits).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from flask import Blueprint, current_app, request
from flask_babel import get_locale
from flask_babel import gettext as _

from portal.domain.calendar import UTC
from portal.i18n import current_lang, localized
from portal.services.metrics.status import status_reason_in
from portal.services.opendata.feeds import (
    FeedContent,
    feed_for_department,
    feed_for_province,
    feed_for_service,
    incident_changed_at,
)
from portal.web.formatting import datetime_wib
from portal.web.labels import service_status_label
from portal.web.public.incidents import incident_impact_label, incident_state_label
from portal.web.public.live import cached_body
from portal.web.urls import absolute_url_for, address_maker, base_url
from portal.web.xml_text import xml_attribute, xml_text

bp = Blueprint("feeds", __name__, url_prefix="/<lang>")

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"
# Browsers and proxies may reuse a feed this long without asking again (seconds).
FEED_MAX_AGE = 60
# The year in the tag: URIs of entries that have no page of their own (RFC 4151).
TAG_YEAR = 2026


def rfc3339(value: datetime) -> str:
    """Format a timestamp as Atom wants it (RFC 3339, UTC, whole seconds)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tag(specific: str) -> str:
    """Return a stable tag: URI (RFC 4151) for an entry without a page of its own."""
    host = urlsplit(base_url()).hostname or "localhost"
    return f"tag:{host},{TAG_YEAR}:{specific}"


def _element(tag: str, text: str | None, attributes: str = "") -> str:
    """Write an element as ElementTree did: ``<tag attributes />`` without a text.

    ``attributes`` are written already (each with its leading space).
    """
    if not text:
        return f"<{tag}{attributes} />"
    return f"<{tag}{attributes}>{xml_text(text)}</{tag}>"


class _Atom:
    """A small Atom document under construction, written as text.

    Byte for byte what ElementTree's ``tostring`` wrote of the same tree (the namespace
    declared on the root, ``<link ... />``): building and walking a tree of hundreds of
    elements cost a department's feed more than reading it.
    """

    def __init__(self) -> None:
        self.lang = current_lang()
        # (updated, id, the entry written): sorted newest first when the document is.
        self.entries: list[tuple[datetime, str, str]] = []

    def entry(self, entry_id: str, title: str, published: datetime, updated: datetime,
              link: str, term: str, label: str, content: str) -> None:
        """Add an entry (kept aside, to be sorted newest first)."""
        published_text = rfc3339(published)
        updated_text = published_text if updated is published else rfc3339(updated)
        written = "".join((
            "<entry>",
            _element("id", entry_id),
            _element("title", title),
            _element("published", published_text),
            _element("updated", updated_text),
            f'<link rel="alternate" type="text/html" href="{xml_attribute(link)}" />',
            f'<category term="{xml_attribute(term)}" label="{xml_attribute(label)}" />',
            _element("content", content, ' type="text"'),
            "</entry>",
        ))
        self.entries.append((updated.astimezone(UTC), entry_id, written))

    def document(self, feed_id: str, title: str, subtitle: str, self_url: str, page_url: str,
                 empty_date: datetime) -> tuple[bytes, datetime]:
        """Return the feed as bytes and the date it carries."""
        self.entries.sort(key=lambda item: (item[0], item[1]), reverse=True)
        updated = self.entries[0][0] if self.entries else empty_date.astimezone(UTC)
        province = current_app.config["PORTAL_PROVINCE_NAME"]
        author = _("Provincial Government of %(province)s", province=province)
        text = "".join((
            "<?xml version='1.0' encoding='utf-8'?>\n",
            f'<feed xmlns="{ATOM_NS}" xml:lang="{xml_attribute(self.lang)}">',
            _element("id", feed_id),
            _element("title", title),
            _element("subtitle", subtitle),
            _element("updated", rfc3339(updated)),
            f'<link rel="self" type="{ATOM_TYPE}" href="{xml_attribute(self_url)}" />',
            f'<link rel="alternate" type="text/html" href="{xml_attribute(page_url)}" />',
            f"<author>{_element('name', author)}</author>",
            *(written for _updated, _id, written in self.entries),
            "</feed>",
        ))
        # As ElementTree wrote UTF-8: what it cannot encode (a lone surrogate) as a reference.
        return text.encode("utf-8", "xmlcharrefreplace"), updated


def _add_incidents(atom: _Atom, content: FeedContent) -> None:
    """Add one entry per incident, carrying its latest update."""
    for incident in content.incidents:
        entry_url = absolute_url_for("incidents.detail", incident_id=incident.id)
        services = ", ".join(localized(s, "name").text for s in incident.services)
        summary = _(
            "Impact: %(impact)s. State: %(state)s. Services: %(services)s.",
            impact=incident_impact_label(incident.impact),
            state=incident_state_label(incident.state),
            services=services,
        )
        latest = incident.latest_update
        text = summary if latest is None else f"{summary}\n\n{localized(latest, 'body').text}"
        atom.entry(entry_url, localized(incident, "title").text, incident.started_at,
                   incident_changed_at(incident), entry_url, incident.impact,
                   incident_impact_label(incident.impact), text)


def _add_maintenance(atom: _Atom, content: FeedContent, page_url: str) -> None:
    """Add one entry per planned maintenance window."""
    for item in content.maintenance:
        services = ", ".join(localized(s, "name").text for s in item.services)
        text = _("From %(start)s to %(end)s. Services: %(services)s.",
                 start=datetime_wib(item.starts_at), end=datetime_wib(item.ends_at),
                 services=services)
        description = localized(item, "description").text
        if description:
            text = f"{text}\n\n{description}"
        atom.entry(_tag(f"maintenance/{item.id}"),
                   _("Planned maintenance: %(title)s", title=localized(item, "title").text),
                   item.created_at, item.created_at, page_url, "maintenance",
                   _("Planned maintenance"), text)


def _add_status_changes(atom: _Atom, content: FeedContent) -> None:
    """Add one entry per recorded status change, worded as the mail to subscribers.

    What entries repeat is built once a feed: a label per status, a sentence per pair of
    statuses, a title per service and status, an address per service.
    """
    services = {s.id: s for s in content.services}
    locale = str(get_locale())
    tag = _tag("status-changes/")
    link = address_maker("public.service", "code", absolute=True)
    # gettext formats its translation with the values given: the same, looked up once.
    title_format = _("%(service)s: %(status)s")
    labels: dict[str, str] = {}
    moves: dict[tuple[str, str], str] = {}
    titles: dict[tuple[int, str], tuple[str, str]] = {}
    for change in content.status_changes:
        status = labels.get(change.status)
        if status is None:
            status = labels[change.status] = service_status_label(change.status)
        move = moves.get((change.previous, change.status))
        if move is None:
            move = moves[change.previous, change.status] = _(
                "Status changed from \"%(old)s\" to \"%(new)s\".",
                old=service_status_label(change.previous), new=status)
        titled = titles.get((change.service_id, change.status))
        if titled is None:
            service = services[change.service_id]
            titled = titles[change.service_id, change.status] = (
                title_format % {"service": localized(service, "name", atom.lang).text,
                                "status": status},
                link(service.code))
        # The row's id: unique, never reused, the same in the service's and department's feeds.
        atom.entry(
            f"{tag}{change.id}", titled[0], change.changed_at, change.changed_at, titled[1],
            f"status-{change.status}", status,
            f"{move}\n\n{status_reason_in(change, locale)}",
        )


def _answer(build: Callable[[], tuple[bytes, datetime]]):
    """Serve a feed (from the page cache while the public data version holds) with its
    validators; 304 when the reader already has it."""
    kept = cached_body(build)
    response = current_app.response_class(kept.body,
                                          content_type=f"{ATOM_TYPE}; charset=utf-8")
    response.cache_control.public = True
    response.cache_control.max_age = FEED_MAX_AGE
    response.set_etag(f"{current_lang()}-{kept.etag}")
    response.last_modified = kept.last_modified
    return response.make_conditional(request)


def _modified(updated: datetime, content: FeedContent) -> datetime:
    """A feed's last change: its newest entry, or the catalogue's when that is newer."""
    return max(updated, content.catalogue_changed_at.astimezone(UTC))


@bp.get("/incidents.atom")
def province():
    """Serve the province's incidents and planned maintenance (``?service=CODE``: of one)."""
    return _answer(_province_feed)


def _province_feed() -> tuple[bytes, datetime]:
    service_code = request.args.get("service", "").strip()[:64] or None
    content = feed_for_province(service_code)
    page_url = absolute_url_for("incidents.index", service=service_code)
    atom = _Atom()
    _add_incidents(atom, content)
    _add_maintenance(atom, content, page_url)
    province_name = current_app.config["PORTAL_PROVINCE_NAME"]
    body, updated = atom.document(
        absolute_url_for("incidents.index", service=service_code),
        _("Incidents and planned maintenance · Pantau Layanan"),
        _("Disruptions of the public services of the Provincial Government of %(province)s, "
          "and what is being done about them.", province=province_name),
        absolute_url_for("feeds.province", service=service_code),
        page_url,
        content.catalogue_changed_at,
    )
    return body, _modified(updated, content)


@bp.get("/services/<code>/feed.atom")
def service(code: str):
    """Serve one service's status changes, incidents and planned maintenance."""
    return _answer(lambda: _service_feed(code))


def _service_feed(code: str) -> tuple[bytes, datetime]:
    content = feed_for_service(code)
    found = content.services[0]
    name = localized(found, "name").text
    page_url = absolute_url_for("public.service", code=found.code)
    atom = _Atom()
    _add_status_changes(atom, content)
    _add_incidents(atom, content)
    _add_maintenance(atom, content, absolute_url_for("incidents.index", service=found.code))
    body, updated = atom.document(
        page_url,
        _("%(service)s: status, incidents and maintenance · Pantau Layanan", service=name),
        _("Changes of the status of %(service)s, its incidents and its planned maintenance.",
          service=name),
        absolute_url_for("feeds.service", code=found.code),
        page_url,
        content.catalogue_changed_at,
    )
    return body, _modified(updated, content)


@bp.get("/departments/<code>/feed.atom")
def department(code: str):
    """Serve the status changes, incidents and maintenance of one department's services."""
    return _answer(lambda: _department_feed(code))


def _department_feed(code: str) -> tuple[bytes, datetime]:
    content = feed_for_department(code)
    found = content.department
    assert found is not None  # a department's feed always names it
    name = localized(found, "name").text
    page_url = absolute_url_for("public.department", code=found.code)
    atom = _Atom()
    _add_status_changes(atom, content)
    _add_incidents(atom, content)
    _add_maintenance(atom, content, absolute_url_for("incidents.index"))
    body, updated = atom.document(
        page_url,
        _("%(department)s: status of its services, incidents and maintenance · Pantau Layanan",
          department=name),
        _("Changes of the status of the services of %(department)s, their incidents and "
          "their planned maintenance.", department=name),
        absolute_url_for("feeds.department", code=found.code),
        page_url,
        content.catalogue_changed_at,
    )
    return body, _modified(updated, content)
