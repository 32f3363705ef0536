"""Public incident pages: open incidents, history, planned maintenance, one incident, Atom feed."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET

from flask import Blueprint, current_app, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.domain.calendar import UTC, utc_now
from portal.i18n import current_lang, localized
from portal.models.incidents import Incident
from portal.services.metrics import incidents as incident_service
from portal.web.urls import absolute_url_for

bp = Blueprint("incidents", __name__, url_prefix="/<lang>")

IMPACT_LABELS = {
    "minor": _l("Minor disruption"),
    "major": _l("Major disruption"),
    "outage": _l("Outage"),
}
STATE_LABELS = {
    "investigating": _l("Investigating"),
    "identified": _l("Cause identified"),
    "monitoring": _l("Monitoring a fix"),
    "resolved": _l("Resolved"),
}
HISTORY_LIMIT = 50
FEED_LIMIT = 50
ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@bp.app_template_global()
def incident_impact_label(impact: str) -> str:
    """Return the translated name of an incident's impact."""
    return str(IMPACT_LABELS.get(impact, impact))


@bp.app_template_global()
def incident_state_label(state: str) -> str:
    """Return the translated name of an incident's state."""
    return str(STATE_LABELS.get(state, state))


@bp.get("/incidents")
def index():
    """List open incidents, current and upcoming maintenance, then past incidents."""
    service_code = request.args.get("service", "").strip()[:64] or None
    return render_template(
        "public/incidents/index.html",
        open_incidents=incident_service.incident_list(
            service=service_code, include_resolved=False, limit=None
        ),
        resolved_incidents=incident_service.incident_list(
            service=service_code, only_resolved=True, limit=HISTORY_LIMIT
        ),
        maintenance=incident_service.maintenance_list(service=service_code, when="current"),
        service_code=service_code,
    )


@bp.get("/incidents/<int:incident_id>")
def detail(incident_id: int):
    """Show one incident and its timeline of updates, newest first."""
    incident = incident_service.incident_get(incident_id)
    return render_template("public/incidents/detail.html", incident=incident)


def _rfc3339(value: datetime) -> str:
    """Format a timestamp as Atom wants it (RFC 3339, UTC)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry_updated(incident: Incident) -> datetime:
    """Return when an incident last changed: its latest update, or its start."""
    latest = incident.latest_update
    return latest.created_at if latest else incident.started_at


def _atom_feed(incidents: list[Incident]) -> bytes:
    """Build an Atom 1.0 feed with one entry per incident carrying its latest update."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    lang = current_lang()
    province = current_app.config["PORTAL_PROVINCE_NAME"]
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {XML_LANG: lang})
    # Addresses from PORTAL_BASE_URL, never the Host header: the feed is cached publicly.
    page_url = absolute_url_for("incidents.index")
    sub(feed, "id", page_url)
    sub(feed, "title", _("Incidents and planned maintenance · Pantau Layanan"))
    sub(feed, "subtitle", _("Disruptions of the public services of the Provincial Government "
                            "of %(province)s, and what is being done about them.",
                            province=province))
    updated = max((_entry_updated(i) for i in incidents), default=None) or utc_now()
    sub(feed, "updated", _rfc3339(updated))
    sub(feed, "link", rel="self", type="application/atom+xml",
        href=absolute_url_for("incidents.feed"))
    sub(feed, "link", rel="alternate", type="text/html", href=page_url)
    author = sub(feed, "author")
    # The publisher is the government, never the member of staff who wrote the update.
    sub(author, "name", _("Provincial Government of %(province)s", province=province))
    for incident in incidents:
        entry = sub(feed, "entry")
        entry_url = absolute_url_for("incidents.detail", incident_id=incident.id)
        sub(entry, "id", entry_url)
        sub(entry, "title", localized(incident, "title").text)
        sub(entry, "published", _rfc3339(incident.started_at))
        sub(entry, "updated", _rfc3339(_entry_updated(incident)))
        sub(entry, "link", rel="alternate", type="text/html", href=entry_url)
        sub(entry, "category", term=incident.impact, label=incident_impact_label(incident.impact))
        services = ", ".join(localized(s, "name").text for s in incident.services)
        summary = _(
            "Impact: %(impact)s. State: %(state)s. Services: %(services)s.",
            impact=incident_impact_label(incident.impact),
            state=incident_state_label(incident.state),
            services=services,
        )
        latest = incident.latest_update
        content = summary if latest is None else f"{summary}\n\n{localized(latest, 'body').text}"
        sub(entry, "content", content, type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


@bp.get("/incidents.atom")
def feed():
    """Serve the incidents as an Atom 1.0 feed in the reader's language."""
    incidents = incident_service.incident_list(limit=FEED_LIMIT)
    response = make_response(_atom_feed(incidents))
    response.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
    response.headers["Cache-Control"] = "public, max-age=60"
    # Feed readers poll: an unchanged feed answers 304 without a body.
    response.add_etag()
    return response.make_conditional(request)
