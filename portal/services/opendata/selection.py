"""Reading a download's filters: which services or departments, which WIB dates.

``service`` and ``department`` take codes and may be repeated; each filter narrows the
download (services named **and** in the departments named). ``from`` and ``to`` are WIB dates
written YYYY-MM-DD, both included. A dataset accepts only the filters that mean something for
it; any other one is refused rather than silently ignored, so that nobody takes a whole table
for the part they asked for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from portal.extensions import db
from portal.models.catalogue import Department, Service
from portal.services.errors import FieldError, ValidationError
from portal.services.opendata.schema import FILTERS, Dataset, Selection

# More codes than this in one filter is not a selection any more: download the whole table.
MAX_CODES = 100


def _codes(values: Sequence[str], name: str, errors: list[FieldError]) -> list[str]:
    """Return the distinct non-empty codes of a repeated filter, in the order given."""
    codes: list[str] = []
    for value in values:
        code = value.strip()
        if code and code not in codes:
            codes.append(code)
    if len(codes) > MAX_CODES:
        errors.append(FieldError(name, _("name at most %(n)d codes", n=MAX_CODES)))
        return []
    return codes


def _ids(model: type, codes: list[str], name: str, errors: list[FieldError]) -> set[int]:
    """Resolve codes to ids, recording the unknown ones."""
    found = {code: found_id for code, found_id in db.session.execute(
        select(model.code, model.id).where(model.code.in_(codes)))}
    for code in codes:
        if code not in found:
            errors.append(FieldError(name, _("no such code: %(code)s", code=code)))
    return set(found.values())


def _day(values: Sequence[str], name: str, errors: list[FieldError]) -> date | None:
    """Read a YYYY-MM-DD filter (the last one given wins, as in any query string)."""
    raw = values[-1].strip() if values else ""
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(FieldError(name, _("must be a date written YYYY-MM-DD")))
        return None


def selection_parse(dataset: Dataset, args: Mapping[str, Sequence[str]],
                    now: datetime) -> Selection:
    """Turn a download's query parameters into a Selection; raise ValidationError.

    ``args`` maps each parameter to all its values (a werkzeug MultiDict's ``lists()``).
    Parameters that are no filter at all (``lang``, tracking tags) are ignored.
    """
    errors: list[FieldError] = []
    given = {name: list(values) for name, values in args.items()
             if name in FILTERS and any(v.strip() for v in values)}
    for name in given:
        if name not in dataset.filters:
            accepted = ", ".join(dataset.filters) or "-"
            errors.append(FieldError(name, _(
                "this dataset cannot be filtered by %(name)s (it takes: %(accepted)s)",
                name=name, accepted=accepted)))
    if errors:
        raise ValidationError(errors)
    service_codes = _codes(given.get("service", []), "service", errors)
    department_codes = _codes(given.get("department", []), "department", errors)
    from_date = _day(given.get("from", []), "from", errors)
    to_date = _day(given.get("to", []), "to", errors)
    if from_date and to_date and to_date < from_date:
        errors.append(FieldError("to", _("must be on or after from")))
    service_ids = _ids(Service, service_codes, "service", errors) if service_codes else None
    department_ids = (_ids(Department, department_codes, "department", errors)
                      if department_codes else None)
    if errors:
        raise ValidationError(errors)
    if department_ids is not None and "service" in dataset.filters:
        # A service-level table: the departments' services, narrowed by any named service.
        in_departments = set(db.session.scalars(
            select(Service.id).where(Service.department_id.in_(department_ids))))
        service_ids = in_departments if service_ids is None else service_ids & in_departments
    return Selection(
        now=now,
        service_ids=None if service_ids is None else tuple(sorted(service_ids)),
        department_ids=None if department_ids is None else tuple(sorted(department_ids)),
        from_date=from_date,
        to_date=to_date,
    )
