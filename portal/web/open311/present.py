"""The Open311 documents: what each GeoReport v2 resource holds, in the reader's language.

Each function returns the JSON shape of one document (plain dicts and lists); the blueprint
writes it as JSON or XML. Feedback is shown only from its public view (never an identity, a
place or, in a list, a tracking code); datetimes are W3C/ISO 8601 with the WIB offset.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Row

from portal.domain.calendar import to_wib
from portal.i18n import current_lang, localized
from portal.models.catalogue import Service
from portal.services.feedback.public_view import FeedbackPublicView
from portal.services.open311.catalogue import (
    ATTRIBUTE_ANONYMOUS,
    ATTRIBUTE_CONFIDENTIAL,
    ATTRIBUTE_INTEGRITY,
    ATTRIBUTE_KIND,
    ATTRIBUTE_PUBLISH,
    ATTRIBUTE_REGENCY,
    KEMENDAGRI_REGENCY_CODES,
    KIND_VALUES,
    kemendagri_from_regency,
)
from portal.services.open311.listing import STATUS_FOR, RequestRecord
from portal.web.formatting import Formats
from portal.web.labels import deadline_day, kind_label, regency_name
from portal.web.open311.blueprint import SPECIFICATION
from portal.web.urls import absolute_path

# The specification limits a request's description to 4,000 characters.
MAX_DESCRIPTION = 4000


def w3_datetime(value: datetime | None) -> str | None:
    """Write an instant as the specification asks (W3C, whole seconds), with the WIB offset."""
    if value is None:
        return None
    return to_wib(value).replace(microsecond=0).isoformat()


def changeset_text(changeset: datetime) -> str:
    """Write a changeset as a sortable WIB date and time, like "2026-12-01 09:30"."""
    return to_wib(changeset).strftime("%Y-%m-%d %H:%M")


# -- discovery and services --------------------------------------------------------------------


def discovery_document(changeset: datetime) -> dict[str, Any]:
    """Return the discovery document: who to ask, how to get a key, the one endpoint."""
    contact = current_app.config["PORTAL_OPEN311_CONTACT"]
    when = changeset_text(changeset)
    return {
        "changeset": when,
        "contact": _("For questions about this API, contact %(contact)s.", contact=contact),
        "key_service": _(
            "Reading needs no key. To file requests, ask %(contact)s for an API key, naming "
            "your application.", contact=contact),
        "endpoints": [{
            "specification": SPECIFICATION,
            "url": absolute_path("open311/v2"),
            "changeset": when,
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }],
    }


def _keyword(text: str) -> str:
    """Keep a keyword whole in a comma-separated list."""
    return " ".join(text.replace(",", " ").split())


def service_list(services: Iterable[Row]) -> list[dict[str, Any]]:
    """Return the service list: an entry for each row of open311_services, in order.

    The language is looked up once for the list, and the texts a thousand services share
    (the names of a few dozen departments, three work modes, a few dozen commitments) are
    written once each: formatting them again for every service was most of the list's time.
    """
    fmt, lang = Formats(), current_lang()
    other = next((code for code in ("id", "en") if code != lang), "id")
    # Translated once, formatted for each service as gettext would with the variables.
    description = fmt.gettext(
        "Department: %(department)s. Work mode: %(work_mode)s. Commitment: %(commitment)s.")
    departments: dict[str, tuple[str, str]] = {}
    modes: dict[str, tuple[str, str]] = {}
    commitments: dict[tuple, str] = {}
    entries = []
    for service in services:
        department = departments.get(service.department_code)
        if department is None:
            department = departments[service.department_code] = (
                localized(service, "department_name", lang).text,
                _keyword(service.department_code))
        mode = modes.get(service.work_mode)
        if mode is None:
            mode = modes[service.work_mode] = (
                fmt.work_mode_label(service.work_mode),
                _keyword(fmt.work_mode_label(service.work_mode, True)))
        promise = (service.commitment_value, service.commitment_unit, service.on_time_target)
        commitment = commitments.get(promise)
        if commitment is None:
            commitment = commitments[promise] = fmt.commitment_text(*promise)
        keywords = (_keyword(localized(service, "name", other).text), department[1], mode[1])
        entries.append({
            "service_code": service.code,
            "service_name": localized(service, "name", lang).text,
            "description": description % {
                "department": department[0], "work_mode": mode[0], "commitment": commitment},
            "metadata": True,
            "type": "realtime",
            "keywords": ", ".join(dict.fromkeys(k for k in keywords if k)),
            "group": department[0],
        })
    return entries


def _choice(code: str, order: int, description: str, values: list[tuple[str, str]], *,
            required: bool = False, datatype_description: str | None = None) -> dict[str, Any]:
    return {
        "variable": True,
        "code": code,
        "datatype": "singlevaluelist",
        "required": required,
        "datatype_description": datatype_description,
        "order": order,
        "description": description,
        "values": [{"key": key, "name": name} for key, name in values],
    }


def service_definition(service: Service) -> dict[str, Any]:
    """Return a service's definition: the attributes of feedback a client asks for."""
    yes_no = [("true", _("Yes")), ("false", _("No"))]
    return {
        "service_code": service.code,
        "attributes": [
            _choice(ATTRIBUTE_KIND, 1, _("What kind of feedback is it?"),
                    [(kind, kind_label(kind)) for kind in KIND_VALUES], required=True),
            _choice(ATTRIBUTE_REGENCY, 2,
                    _("Which regency or city is it about? Leave it out if none."),
                    [(official, regency_name(own))
                     for official, own in KEMENDAGRI_REGENCY_CODES.items()],
                    datatype_description=_(
                        "The official Kemendagri code of the regency or city.")),
            _choice(ATTRIBUTE_ANONYMOUS, 3, _(
                "Anonymous: store no name, e-mail address, phone number or place at all. The "
                "reporter can still follow the feedback with its tracking code, but nobody "
                "can contact them."), yes_no),
            _choice(ATTRIBUTE_CONFIDENTIAL, 4, _(
                "Confidential: only the province's complaint-management unit sees the "
                "reporter's name, e-mail address, phone number and place, never the "
                "department."), yes_no),
            _choice(ATTRIBUTE_PUBLISH, 5, _(
                "Ask for the text to be published. Staff publish a version without personal "
                "data, and only after checking it."), yes_no),
            _choice(ATTRIBUTE_INTEGRITY, 6, _(
                "An integrity report: about corruption, bribery, illegal levies or other "
                "misconduct by officials. It goes to the province's integrity unit, never to "
                "the department concerned, and the reporter is kept confidential."), yes_no),
        ],
    }


# -- requests ----------------------------------------------------------------------------------


def service_notice(view: dict[str, Any]) -> str:
    """Say why the feedback went where it went and what happens next by when, in sentences."""
    sentences = [view["routing_reason"]]
    deadlines = view["deadlines"]
    status = view["status"]
    if status == "submitted" and deadlines["route_due"]:
        sentences.append(_(
            "The province's complaint-management unit sends it to a department by %(date)s.",
            date=deadline_day(deadlines["route_due"])))
    if status in ("routed", "in_progress"):
        if view["first_response_at"] is None and deadlines["first_response_due"]:
            sentences.append(_("The department responds by %(date)s.",
                               date=deadline_day(deadlines["first_response_due"])))
        if deadlines["resolution_due"]:
            sentences.append(_("It is to be resolved by %(date)s.",
                               date=deadline_day(deadlines["resolution_due"])))
    if status == "resolved" and deadlines["auto_close_due"]:
        sentences.append(_(
            "It closes on %(date)s unless the reporter reopens it before then.",
            date=deadline_day(deadlines["auto_close_due"])))
    return " ".join(sentences)


def _latest_staff_text(view: dict[str, Any]) -> str | None:
    """Return the latest public text staff wrote on the timeline (an answer, a reason)."""
    texts = [step["text"] for step in view["timeline"] if step["text"] and step["by"] == "staff"]
    return texts[-1] if texts else None


def _public_description(view: dict[str, Any]) -> str | None:
    """Return the view's text, None when there is none.

    The public version staff approved, or, for the holder of the tracking code, their own
    text (de-identified by the view).
    """
    if not view.get("subject") and not view.get("body"):
        return None
    text = "\n\n".join(part for part in (view.get("subject"), view.get("body")) if part)
    if len(text) > MAX_DESCRIPTION:
        text = text[: MAX_DESCRIPTION - 1].rstrip() + "…"
    return text


def request_entry(record: RequestRecord) -> dict[str, Any]:
    """Return one feedback as a GeoReport request: only what its public view shows."""
    view = record.view
    service = view.get("service")
    handler = view.get("handled_by")
    updated = max([view["submitted_at"], *(step["at"] for step in view["timeline"])])
    return {
        "service_request_id": record.service_request_id,
        "status": STATUS_FOR[view["status"]],
        "status_notes": _latest_staff_text(view),
        "service_name": service["name"] if service else None,
        "service_code": service["code"] if service else None,
        "description": _public_description(view),
        "agency_responsible": handler["name"] if handler else None,
        "service_notice": service_notice(view),
        "requested_datetime": w3_datetime(view["submitted_at"]),
        "updated_datetime": w3_datetime(updated),
        "expected_datetime": w3_datetime(view["deadlines"]["resolution_due"]),
        # The regency only for the holder of the tracking code, as on the tracking page: in
        # a public list it could help tell who wrote a published text.
        "address": regency_name(record.regency) or None,
        "address_id": kemendagri_from_regency(record.regency),
    }


def filed_entry(view: FeedbackPublicView) -> dict[str, Any]:
    """Return the answer to a filed request: its tracking code and what happens next."""
    return {
        "service_request_id": view.tracking_code,
        "service_notice": service_notice(view.as_dict()),
        "account_id": None,
    }
