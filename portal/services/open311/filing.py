"""Filing feedback through Open311 (``POST requests``), through the same service as the form.

An application with a key (:mod:`portal.services.open311.keys`) sends the GeoReport v2 fields;
they become the fields of :func:`feedback_submit`, which validates, routes, sets the
deadlines, stores, queues the mail and commits, exactly as for the form and the JSON API:

- ``service_code`` is the service the feedback is about (so rule 1 of the routing applies);
- ``description`` is the text; its first line, shortened, is the subject staff see in lists;
- ``first_name`` and ``last_name``, ``email`` and ``phone`` are the reporter's identity;
- ``attribute[kind]``, ``attribute[regency]`` (an official Kemendagri code) and the choices
  ``attribute[anonymous]``, ``attribute[confidential]``, ``attribute[publish]`` and
  ``attribute[integrity]`` (an integrity report, routing rule 0);
- ``lat``/``long`` and ``address_string``, optional, are kept beside the feedback for staff
  only, like an identity (an anonymous report keeps none of them); ``address_id``,
  ``device_id``, ``account_id`` and ``media_url`` are not used.

Which key filed it is recorded, and audited.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from portal.extensions import db
from portal.models.feedback import MAX_SUBJECT, Feedback
from portal.models.open311 import MAX_ADDRESS_STRING, Open311Key, Open311Request
from portal.services.auth import audit_record
from portal.services.errors import FieldError, ValidationError, must_be_one_of
from portal.services.feedback.citizen import feedback_submit
from portal.services.feedback.handling import feedback_for_staff, feedback_identity_visible
from portal.services.open311.catalogue import (
    ATTRIBUTE_CODES,
    ATTRIBUTE_KIND,
    ATTRIBUTE_REGENCY,
    FLAG_ATTRIBUTES,
    FLAG_VALUES,
    KEMENDAGRI_REGENCY_CODES,
    KIND_VALUES,
    open311_service,
    regency_from_kemendagri,
)

_ATTRIBUTE = re.compile(r"^attribute\[([^\]]*)\](\[\])?$")
# Where each field of feedback came from in the GeoReport request, to name it in errors.
_OPEN311_FIELD = {
    "kind": "attribute[kind]",
    "service": "service_code",
    "subject": "description",
    "body": "description",
    "regency": "attribute[regency]",
    "name": "first_name",
    "email": "email",
    "phone": "phone",
    "anonymous": "attribute[anonymous]",
    "confidential": "attribute[confidential]",
    "publish": "attribute[publish]",
    "integrity": "attribute[integrity]",
}


def _text(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key)
    return value.replace("\x00", "").strip() if isinstance(value, str) else ""


def subject_from(description: str) -> str:
    """Return a subject for staff lists: the description's first line, shortened to fit."""
    first_line = next((line.strip() for line in description.splitlines() if line.strip()), "")
    if len(first_line) <= MAX_SUBJECT:
        return first_line
    cut = first_line[: MAX_SUBJECT - 1]
    # End on a whole word when there is one to end on.
    if " " in cut[MAX_SUBJECT // 2:]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "…"


def _attributes(form: Mapping[str, Any], errors: list[FieldError]) -> dict[str, str]:
    """Read the attribute[code] fields; an unknown code is an error, not silently dropped."""
    values: dict[str, str] = {}
    for key, value in form.items():
        match = _ATTRIBUTE.match(key)
        if match is None:
            continue
        code = match.group(1)
        if code not in ATTRIBUTE_CODES:
            errors.append(FieldError(f"attribute[{code[:64]}]",
                                     _("is not an attribute of this service")))
            continue
        values[code] = value.replace("\x00", "").strip() if isinstance(value, str) else ""
    return values


def _feedback_fields(attributes: dict[str, str], errors: list[FieldError]) -> dict[str, Any]:
    """Turn the attributes into the kind, regency and choices of feedback."""
    fields: dict[str, Any] = {}
    kind = attributes.get(ATTRIBUTE_KIND, "")
    if kind not in KIND_VALUES:
        errors.append(FieldError(f"attribute[{ATTRIBUTE_KIND}]", must_be_one_of(KIND_VALUES)))
    fields["kind"] = kind
    official = attributes.get(ATTRIBUTE_REGENCY, "")
    fields["regency"] = None
    if official:
        fields["regency"] = regency_from_kemendagri(official)
        if fields["regency"] is None:
            errors.append(FieldError(f"attribute[{ATTRIBUTE_REGENCY}]",
                                     must_be_one_of(KEMENDAGRI_REGENCY_CODES)))
    for code in FLAG_ATTRIBUTES:
        value = attributes.get(code, "").lower() or "false"
        if value not in FLAG_VALUES:
            errors.append(FieldError(f"attribute[{code}]", must_be_one_of(FLAG_VALUES)))
        fields[code] = value == "true"
    return fields


def _place(form: Mapping[str, Any], errors: list[FieldError]) -> tuple[
        float | None, float | None, str | None]:
    """Read lat/long (both or neither, WGS84 degrees) and address_string, all optional."""
    lat_text, long_text = _text(form, "lat"), _text(form, "long")
    latitude = longitude = None
    if lat_text or long_text:
        try:
            latitude, longitude = float(lat_text), float(long_text)
        except ValueError:
            latitude = longitude = math.nan
        if not (math.isfinite(latitude) and math.isfinite(longitude)
                and -90 <= latitude <= 90 and -180 <= longitude <= 180):
            errors.append(FieldError("lat", _(
                "Send lat and long together, as decimal degrees (WGS84), such as "
                "lat=-2.2099 and long=113.9135.")))
            latitude = longitude = None
    address = _text(form, "address_string")
    if len(address) > MAX_ADDRESS_STRING:
        errors.append(FieldError("address_string", _(
            "Use at most %(max)d characters.", max=MAX_ADDRESS_STRING)))
    return latitude, longitude, address or None


def open311_request_file(
    key: Open311Key, form: Mapping[str, Any], lang: str, now: datetime | None = None
) -> Feedback:
    """File feedback from a GeoReport v2 request; return it (its tracking code for the answer).

    Raise NotFound for an unknown ``service_code`` and ValidationError, naming the GeoReport
    fields, for anything else that is wrong; nothing is stored then.
    """
    service_code = _text(form, "service_code")
    if not service_code:
        raise ValidationError([FieldError("service_code", _("Choose a service."))])
    service = open311_service(service_code[:64])

    errors: list[FieldError] = []
    fields = _feedback_fields(_attributes(form, errors), errors)
    latitude, longitude, address = _place(form, errors)
    description = _text(form, "description")
    if not description:
        errors.append(FieldError("description", _("Describe your feedback.")))
    if errors:
        raise ValidationError(errors)

    name = " ".join(part for part in (_text(form, "first_name"), _text(form, "last_name")) if part)
    data = {
        **fields,
        "service": service.code,
        "subject": subject_from(description),
        "body": description,
        "name": name,
        "email": _text(form, "email"),
        "phone": _text(form, "phone"),
    }
    try:
        feedback = feedback_submit(data, lang, now=now)
    except ValidationError as error:
        # Named as the client sent them; subject and body both come from description.
        renamed = [replace(e, field=_OPEN311_FIELD.get(e.field, e.field)) for e in error.errors]
        raise ValidationError(list({(e.field, e.error): e for e in renamed}.values())) from None

    # Filed and committed: what follows is the record of how, in a second commit.
    keep_place = not feedback.anonymous
    db.session.add(Open311Request(
        feedback_id=feedback.id,
        key_id=key.id,
        latitude=latitude if keep_place else None,
        longitude=longitude if keep_place else None,
        address_string=address if keep_place else None,
    ))
    audit_record(None, "open311.request", "feedback", feedback.id, feedback.department_id,
                 to_state=feedback.status, detail=f"open311_key={key.id}")
    db.session.commit()
    return feedback


def open311_place_for_staff(actor: Any, feedback_id: int) -> Open311Request | None:
    """Return how a feedback came through Open311, with its place, for staff who may see it.

    The place is treated like the reporter's identity: None for staff who may not see the
    identity (a department, for a confidential report), and for feedback filed otherwise.
    Raise NotFound when actor may not read the feedback at all.
    """
    feedback = feedback_for_staff(actor, feedback_id)
    if not feedback_identity_visible(actor, feedback):
        return None
    return db.session.scalar(
        select(Open311Request).where(Open311Request.feedback_id == feedback.id))

