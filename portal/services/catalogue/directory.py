"""Catalogue use cases: import, search and read departments and services.

The catalogue CSV has the REQUIRED_COLUMNS and may have the OPTIONAL_COLUMNS: the ten texts of
the published standard, and a first-response commitment in two columns,
``first_response_value,first_response_unit`` (same units as the commitment, e.g. ``1`` and
``working_days``; both empty: the service makes no first-response commitment, and its
first-response on-time rate is null); the department's short name, DPRD commission and office
(DEPARTMENT_COLUMNS, alike on every row of a department); and per service its search keywords
and, where it is not the department's office, where to go (SERVICE_COLUMNS). A file without an
optional column leaves that field of existing departments and services as it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections import namedtuple
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlparse

from flask_babel import gettext as _
from sqlalchemy import Select, bindparam, func, select, true
from sqlalchemy.orm import joinedload, selectinload

from portal.domain.calendar import UTC, utc_now, wib_date
from portal.domain.search import matches as search_matches
from portal.extensions import db
from portal.models.arrangements import WfaArrangement
from portal.models.catalogue import (
    COMMITMENT_UNITS,
    DPRD_COMMISSIONS,
    STANDARD_FIELDS,
    WORK_MODES,
    CommitmentChange,
    Department,
    Service,
    SiteSetting,
    WorkModeChange,
)
from portal.models.incidents import Incident
from portal.models.metrics import SERVICE_STATUSES, ServiceStatus
from portal.services.catalogue.tallies import silent_before, tallies_counted, tally_select
from portal.services.errors import FieldError, NotFound, ValidationError
from portal.services.metrics.availability import availability_counts_query
from portal.services.metrics.incidents import incident_list, open_incident_exists
from portal.services.metrics.service_requests import service_requests_recompute
from portal.services.metrics.status import StatusView

# The status reads' own statement and builder (department_overview reads its services'
# columns in the same statement), so that the statuses are those status_for_services gives.
from portal.services.metrics.status import build_shown_statuses as build_shown
from portal.services.metrics.status import shown_status_query as shown_query

CODE_RE = re.compile(r"^[a-z0-9-]{2,64}$")
REQUIRED_COLUMNS = (
    "department_code",
    "department_name_id",
    "department_name_en",
    "service_code",
    "service_name_id",
    "service_name_en",
    "work_mode",
    "work_mode_since",
    "commitment_value",
    "commitment_unit",
    "on_time_target",
    "online_url",
)
TEXT_COLUMNS = tuple(f"{name}_{lang}" for name in STANDARD_FIELDS for lang in ("id", "en"))
FIRST_RESPONSE_COLUMNS = ("first_response_value", "first_response_unit")
# Optional department columns (file column: model attribute). Every row of a department that
# the file has must say the same.
DEPARTMENT_COLUMNS = {
    "department_short_name": "short_name",
    "dprd_commission": "dprd_commission",
    "department_address": "address",
    "department_phone": "phone",
    "department_latitude": "latitude",
    "department_longitude": "longitude",
    "department_hours_id": "hours_id",
    "department_hours_en": "hours_en",
}
# Optional service columns: search keywords, and where to go when not the department's office.
SERVICE_COLUMNS = ("keywords_id", "keywords_en", "address", "phone", "latitude", "longitude")
OPTIONAL_COLUMNS = (TEXT_COLUMNS + FIRST_RESPONSE_COLUMNS + tuple(DEPARTMENT_COLUMNS)
                    + SERVICE_COLUMNS)
MAX_SHORT_NAME = 60
MAX_ADDRESS = 500
MAX_PHONE = 60
# A telephone number as people write it: digits, a leading +, spaces, dots, dashes, brackets,
# and "/" or "," between two numbers; at least 5 digits.
_PHONE_RE = re.compile(r"^\+?[0-9 ().\-/,]{5,60}$")
DEFAULT_ON_TIME_TARGET = 0.90
# The longest commitment a service can make: ten years of working days, a year of hours.
MAX_COMMITMENT = {"working_days": 2600, "hours": 8760}
# Characters no text may hold: control characters (NUL among them; tab and newlines allowed)
# and UTF-16 halves without a partner, which no database can store.
UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
MAX_NAME = 300
MAX_TEXT = 5000
# Work modes take effect from a date in this range: nothing the portal measures is older, and
# a date far ahead is a typing error (one such date once took every DPRD page down).
EARLIEST_EFFECTIVE_DATE = date(2000, 1, 1)
LATEST_EFFECTIVE_AHEAD = timedelta(days=366)
# Bumped by every import that changes something: public page caches key on it (names and
# texts have no history of their own). Same key as portal.services.catalogue.public_figures reads.
CATALOGUE_VERSION_KEY = "catalogue_version"
# Present while demo data is loaded (portal.services.demo): every page header then says so.
DEMO_DATA_KEY = "demo_data"
# The window of the measures a department's page shows beside its WFA arrangement, as for
# service status (portal.services.catalogue.arrangements).
ARRANGEMENT_MEASURE_DAYS = 30
# A department's arrangement versions newest first: the latest effective date, then (two
# versions from the same day) the one recorded last. arrangement_in_force picks from this
# order (portal.services.catalogue.arrangements, arrangement_history).
ARRANGEMENT_HISTORY_ORDER = (WfaArrangement.effective_from.desc(), WfaArrangement.id.desc())


# A first-response commitment: (value, unit), or (None, None) for no such promise.
FirstResponse = tuple[int | None, str | None]
# Reports a problem of one column of the row being read.
_Complain = Callable[[str, str], None]


@dataclass
class CatalogueRow:
    """One validated row of a catalogue file."""

    line: int
    department_code: str
    department_name_id: str
    department_name_en: str
    service_code: str
    service_name_id: str
    service_name_en: str
    work_mode: str
    work_mode_since: date | None
    commitment_value: int
    commitment_unit: str
    on_time_target: float
    online_url: str
    texts: dict[str, str] = field(default_factory=dict)
    # (value, unit); (None, None): no first-response commitment; None: not in the file, so an
    # existing service keeps its own.
    first_response: FirstResponse | None = None
    # The optional department and service fields the file has, by model attribute.
    department_fields: dict[str, object] = field(default_factory=dict)
    service_fields: dict[str, object] = field(default_factory=dict)


@dataclass
class ImportSummary:
    """What an import changed."""

    departments_created: int = 0
    departments_updated: int = 0
    services_created: int = 0
    services_updated: int = 0
    services_unchanged: int = 0

    @property
    def changed(self) -> bool:
        """Tell whether the import created or updated a department or a service."""
        return bool(self.departments_created or self.departments_updated
                    or self.services_created or self.services_updated)


def _parse_row(line: int, raw: dict[str, str]) -> tuple[CatalogueRow | None, list[FieldError]]:
    """Read one raw CSV row: the typed row, or None and the problems of its fields."""
    errors: list[FieldError] = []
    value = {k: (v or "").strip() for k, v in raw.items()}

    def bad(column: str, message: str) -> None:
        errors.append(FieldError(field=column, error=message, index=line))

    for column, text in value.items():
        if column is not None and UNSTORABLE.search(text):
            bad(column, _("must not contain control characters"))
    if errors:
        return None, errors
    _check_codes_and_names(value, bad)
    since = _parse_work_mode(value, bad)
    commitment, target = _parse_commitment(value, bad)
    url = _parse_online_url(value, bad)
    first_response = None
    if any(column in value for column in FIRST_RESPONSE_COLUMNS):
        first_response = _parse_first_response(value, bad)
    texts = _parse_texts(value, bad)
    department_fields = _parse_department_fields(value, bad)
    service_fields = _parse_service_fields(value, bad)
    if errors:
        return None, errors
    row = CatalogueRow(
        line=line,
        department_code=value["department_code"],
        department_name_id=value["department_name_id"],
        department_name_en=value["department_name_en"],
        service_code=value["service_code"],
        service_name_id=value["service_name_id"],
        service_name_en=value["service_name_en"],
        work_mode=value["work_mode"],
        work_mode_since=since,
        commitment_value=commitment,
        commitment_unit=value["commitment_unit"],
        on_time_target=target,
        online_url=url,
        texts=texts,
        first_response=first_response,
        department_fields=department_fields,
        service_fields=service_fields,
    )
    return row, errors


def _check_codes_and_names(value: dict[str, str], bad: _Complain) -> None:
    """Check the department and service codes and names."""
    for column in ("department_code", "service_code"):
        if not CODE_RE.match(value[column]):
            bad(column, _("must be 2 to 64 characters: lowercase letters, digits, hyphens"))
    for column in ("department_name_id", "service_name_id"):
        if not value[column]:
            bad(column, _("is required"))
    for column in ("department_name_id", "department_name_en", "service_name_id",
                   "service_name_en"):
        if len(value[column]) > MAX_NAME:
            bad(column, _("is longer than %(n)d characters", n=MAX_NAME))


def _parse_work_mode(value: dict[str, str], bad: _Complain) -> date | None:
    """Check the work mode; return the date it applies from (None when empty or invalid)."""
    if value["work_mode"] not in WORK_MODES:
        bad("work_mode", _("must be one of onsite, hybrid, wfa"))
    if not value["work_mode_since"]:
        return None
    try:
        since = date.fromisoformat(value["work_mode_since"])
    except ValueError:
        bad("work_mode_since", _("must be a date written YYYY-MM-DD"))
        return None
    latest = wib_date(utc_now()) + LATEST_EFFECTIVE_AHEAD
    if not EARLIEST_EFFECTIVE_DATE <= since <= latest:
        bad("work_mode_since", _("must be a date from %(earliest)s to %(latest)s",
                                 earliest=EARLIEST_EFFECTIVE_DATE.isoformat(),
                                 latest=latest.isoformat()))
        return None
    return since


def _parse_commitment(value: dict[str, str], bad: _Complain) -> tuple[int, float]:
    """Check the commitment; return its value and on-time target (the default when empty)."""
    commitment = 0
    try:
        commitment = int(value["commitment_value"])
        if commitment < 0:
            raise ValueError
    except ValueError:
        bad("commitment_value", _("must be a whole number, zero or more"))
    if value["commitment_unit"] not in COMMITMENT_UNITS:
        bad("commitment_unit", _("must be working_days or hours"))
    elif commitment > (limit := MAX_COMMITMENT[value["commitment_unit"]]):
        bad("commitment_value", _("must be at most %(n)d", n=limit))
    target = DEFAULT_ON_TIME_TARGET
    if value["on_time_target"]:
        try:
            target = float(value["on_time_target"])
            if not 0 < target <= 1:
                raise ValueError
        except ValueError:
            bad("on_time_target", _("must be a fraction above 0 and at most 1, e.g. 0.90"))
    return commitment, target


def _parse_online_url(value: dict[str, str], bad: _Complain) -> str:
    """Check the optional address of the online channel: http(s), at most 500 characters."""
    url = value["online_url"]
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or len(url) > 500:
            bad("online_url", _("must be a web address starting with https://"))
    return url


def _parse_first_response(value: dict[str, str], bad: _Complain) -> FirstResponse:
    """Read the optional first-response commitment: (value, unit) or (None, None)."""
    raw_value = value.get("first_response_value", "")
    unit = value.get("first_response_unit", "")
    if not raw_value and not unit:
        return (None, None)
    if not raw_value or not unit:
        bad("first_response_value" if not raw_value else "first_response_unit",
            _("is required when the other first-response column is filled"))
        return (None, None)
    number = None
    try:
        number = int(raw_value)
        if number < 0:
            raise ValueError
    except ValueError:
        bad("first_response_value", _("must be a whole number, zero or more"))
    if unit not in COMMITMENT_UNITS:
        bad("first_response_unit", _("must be working_days or hours"))
    elif number is not None and number > MAX_COMMITMENT[unit]:
        bad("first_response_value", _("must be at most %(n)d", n=MAX_COMMITMENT[unit]))
    return (number, unit)


def _parse_texts(value: dict[str, str], bad: _Complain) -> dict[str, str]:
    """Return the texts of the published standard the file has, each checked for length."""
    texts = {column: value.get(column, "") for column in TEXT_COLUMNS if column in value}
    for column, text in texts.items():
        if len(text) > MAX_TEXT:
            bad(column, _("is longer than %(n)d characters", n=MAX_TEXT))
    return texts


def _parse_place(
    value: dict[str, str], bad: _Complain, prefix: str = ""
) -> dict[str, object]:
    """Read the optional address, phone and coordinates (columns named with a prefix)."""
    fields: dict[str, object] = {}
    address, phone = f"{prefix}address", f"{prefix}phone"
    latitude, longitude = f"{prefix}latitude", f"{prefix}longitude"
    if address in value:
        if len(value[address]) > MAX_ADDRESS:
            bad(address, _("is longer than %(n)d characters", n=MAX_ADDRESS))
        fields["address"] = value[address]
    if phone in value:
        if value[phone] and not (_PHONE_RE.match(value[phone])
                                 and sum(c.isdigit() for c in value[phone]) >= 5):
            bad(phone, _("must be a telephone number, e.g. (0536) 3221000 or +62 536 3221000"))
        fields["phone"] = value[phone]
    if latitude in value or longitude in value:
        coordinates = _parse_coordinates(value.get(latitude, ""), value.get(longitude, ""),
                                         latitude, longitude, bad)
        fields["latitude"], fields["longitude"] = coordinates
    return fields


def _parse_coordinates(
    raw_lat: str, raw_lon: str, lat_column: str, lon_column: str, bad: _Complain
) -> tuple[float | None, float | None]:
    """Read a latitude and longitude in decimal degrees: both or neither, within range."""
    if not raw_lat and not raw_lon:
        return (None, None)
    if not raw_lat or not raw_lon:
        bad(lat_column if not raw_lat else lon_column,
            _("is required when the other coordinate is filled"))
        return (None, None)
    result: list[float | None] = []
    for raw, column, limit in ((raw_lat, lat_column, 90), (raw_lon, lon_column, 180)):
        try:
            number = float(raw)
            if not -limit <= number <= limit:
                raise ValueError
            result.append(number)
        except ValueError:
            bad(column, _("must be decimal degrees from -%(n)d to %(n)d, e.g. -2.2096", n=limit))
            result.append(None)
    if None in result:
        return (None, None)
    return (result[0], result[1])


def _parse_department_fields(value: dict[str, str], bad: _Complain) -> dict[str, object]:
    """Read the optional department columns the file has, by model attribute."""
    fields = _parse_place(value, bad, prefix="department_")
    if "department_short_name" in value:
        if len(value["department_short_name"]) > MAX_SHORT_NAME:
            bad("department_short_name", _("is longer than %(n)d characters", n=MAX_SHORT_NAME))
        fields["short_name"] = value["department_short_name"]
    if "dprd_commission" in value:
        commission = value["dprd_commission"].upper()
        if commission and commission not in DPRD_COMMISSIONS:
            bad("dprd_commission", _("must be I, II, III or IV, or empty"))
        fields["dprd_commission"] = commission or None
    for lang in ("id", "en"):
        column = f"department_hours_{lang}"
        if column in value:
            if len(value[column]) > MAX_TEXT:
                bad(column, _("is longer than %(n)d characters", n=MAX_TEXT))
            fields[f"hours_{lang}"] = value[column]
    return fields


def _parse_service_fields(value: dict[str, str], bad: _Complain) -> dict[str, object]:
    """Read the optional service columns the file has: keywords and where to go."""
    fields = _parse_place(value, bad)
    for column in ("keywords_id", "keywords_en"):
        if column in value:
            if len(value[column]) > MAX_TEXT:
                bad(column, _("is longer than %(n)d characters", n=MAX_TEXT))
            fields[column] = value[column]
    return fields


def _header_errors(header: list[str]) -> list[FieldError]:
    """Check a catalogue header: required columns present, no unknown or repeated column."""
    errors: list[FieldError] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing:
        errors.append(FieldError("header", _("missing columns: %(c)s", c=", ".join(missing)), 1))
    if unknown:
        errors.append(FieldError("header", _("unknown columns: %(c)s", c=", ".join(unknown)), 1))
    if len(set(header)) != len(header):
        errors.append(FieldError("header", _("a column appears twice"), 1))
    return errors


class _AcrossRows:
    """The rules across rows: a service once per file, a department named alike on every row."""

    def __init__(self) -> None:
        self._service_lines: dict[str, int] = {}
        self._department_names: dict[str, tuple[str, str, int]] = {}
        self._department_fields: dict[str, tuple[dict[str, object], int]] = {}

    def errors(self, row: CatalogueRow) -> list[FieldError]:
        """Return the problems of a row against the rows before it, and remember it."""
        errors = []
        if row.service_code in self._service_lines:
            errors.append(FieldError(
                "service_code",
                _("repeats the service of line %(n)d", n=self._service_lines[row.service_code]),
                row.line,
            ))
        self._service_lines.setdefault(row.service_code, row.line)
        names = (row.department_name_id, row.department_name_en, row.line)
        first = self._department_names.setdefault(row.department_code, names)
        if first[:2] != names[:2]:
            errors.append(FieldError(
                "department_name_id",
                _("differs from the department's name on line %(n)d", n=first[2]),
                row.line,
            ))
        fields, line = self._department_fields.setdefault(
            row.department_code, (row.department_fields, row.line)
        )
        for column, attribute in DEPARTMENT_COLUMNS.items():
            if fields.get(attribute) != row.department_fields.get(attribute):
                errors.append(FieldError(
                    column,
                    _("differs from the department's value on line %(n)d", n=line),
                    row.line,
                ))
        return errors


def catalogue_parse(stream: Iterable[str]) -> list[CatalogueRow]:
    """Read and validate a whole catalogue CSV; raise ValidationError listing every bad row."""
    reader = csv.DictReader(stream)
    errors = _header_errors(list(reader.fieldnames or []))
    if errors:
        raise ValidationError(errors)
    rows: list[CatalogueRow] = []
    across = _AcrossRows()
    for raw in reader:
        line = reader.line_num
        if None in raw or any(v is None for v in raw.values()):
            errors.append(FieldError("row", _("has a different number of fields than the header"),
                                     line))
            continue
        row, row_errors = _parse_row(line, raw)
        errors += row_errors
        if row is None:
            continue
        errors += across.errors(row)
        rows.append(row)
    if not rows and not errors:
        errors.append(FieldError("file", _("contains no service"), 1))
    if errors:
        raise ValidationError(errors)
    return rows


def _record_work_mode(service: Service, mode: str, since: date | None, by: str) -> None:
    """Append to a service's public work-mode history."""
    service.work_mode_history.append(
        WorkModeChange(work_mode=mode, effective_from=since, recorded_by=by)
    )


def _record_commitment(service: Service, since: date | None, by: str, reason: str) -> None:
    """Append the service's current commitment to its public history."""
    service.commitment_history.append(
        CommitmentChange(
            commitment_value=service.commitment_value,
            commitment_unit=service.commitment_unit,
            on_time_target=service.on_time_target,
            first_response_value=service.first_response_value,
            first_response_unit=service.first_response_unit,
            effective_from=since,
            recorded_by=by,
            reason=reason,
        )
    )


def catalogue_import(rows: list[CatalogueRow], recorded_by: str = "import") -> ImportSummary:
    """Upsert departments and services by code, recording every change in the histories."""
    summary = ImportSummary()
    today = wib_date(utc_now())
    departments, services = _stored_catalogue()
    counted: set[str] = set()  # departments already counted as created or updated
    recompute: list[Service] = []
    for row in rows:
        department = _upsert_department(row, departments, counted, summary)
        service = services.get(row.service_code)
        if service is None:
            services[row.service_code] = _service_create(row, department, recorded_by)
            summary.services_created += 1
            continue
        changed, commitment_changed = _service_update(
            service, row, department, today, recorded_by
        )
        if commitment_changed:
            recompute.append(service)
        if changed:
            summary.services_updated += 1
        else:
            summary.services_unchanged += 1
    if summary.changed:
        bump_catalogue_version()
    if recompute:
        # A changed commitment applies from today: recompute what it moves, in this commit.
        db.session.flush()
        service_requests_recompute([s.id for s in recompute], received_from=today, commit=False)
    db.session.commit()
    return summary


def _stored_catalogue() -> tuple[dict[str, Department], dict[str, Service]]:
    """Return every department and every service (with its histories), by code."""
    departments = {d.code: d for d in db.session.scalars(select(Department))}
    services = {
        s.code: s
        for s in db.session.scalars(
            select(Service).options(
                selectinload(Service.work_mode_history), selectinload(Service.commitment_history)
            )
        )
    }
    return departments, services


def _upsert_department(
    row: CatalogueRow,
    departments: dict[str, Department],
    counted: set[str],
    summary: ImportSummary,
) -> Department:
    """Return the row's department, created or renamed as the row says (counted once each)."""
    department = departments.get(row.department_code)
    if department is None:
        department = Department(
            code=row.department_code,
            name_id=row.department_name_id,
            name_en=row.department_name_en,
            **row.department_fields,
        )
        db.session.add(department)
        departments[row.department_code] = department
        summary.departments_created += 1
        counted.add(row.department_code)
        return department
    wanted = {"name_id": row.department_name_id, "name_en": row.department_name_en,
              **row.department_fields}
    changed = False
    for name, new in wanted.items():
        if getattr(department, name) != new:
            setattr(department, name, new)
            changed = True
    if changed and row.department_code not in counted:
        summary.departments_updated += 1
        counted.add(row.department_code)
    return department


def _plain_fields(row: CatalogueRow) -> dict[str, str]:
    """Return a row's service fields that have no history: names, online address, texts."""
    return {
        "name_id": row.service_name_id,
        "name_en": row.service_name_en,
        "online_url": row.online_url,
        **row.texts,
        **row.service_fields,
    }


def _service_create(row: CatalogueRow, department: Department, recorded_by: str) -> Service:
    """Add a new service with its first work-mode and commitment history entries."""
    first_value, first_unit = row.first_response or (None, None)
    service = Service(
        code=row.service_code,
        department=department,
        work_mode=row.work_mode,
        work_mode_since=row.work_mode_since,
        commitment_value=row.commitment_value,
        commitment_unit=row.commitment_unit,
        on_time_target=row.on_time_target,
        first_response_value=first_value,
        first_response_unit=first_unit,
        **_plain_fields(row),
    )
    db.session.add(service)
    # A remote service with a start date was on-site before that date.
    if row.work_mode != "onsite" and row.work_mode_since:
        _record_work_mode(service, "onsite", None, recorded_by)
    _record_work_mode(service, row.work_mode, row.work_mode_since, recorded_by)
    _record_commitment(service, None, recorded_by, "")
    return service


def _service_update(
    service: Service, row: CatalogueRow, department: Department, today: date, recorded_by: str
) -> tuple[bool, bool]:
    """Update a service as the row says; tell whether anything, and the commitment, changed."""
    details = _update_details(service, row, department)
    work_mode = _update_work_mode(service, row, today, recorded_by)
    commitment = _update_commitment(service, row, today, recorded_by)
    return details or work_mode or commitment, commitment


def _update_details(service: Service, row: CatalogueRow, department: Department) -> bool:
    """Move the service to the row's department and set its plain fields; tell if changed."""
    changed = False
    if service.department is not department:
        service.department = department
        changed = True
    for name, new in _plain_fields(row).items():
        if getattr(service, name) != new:
            setattr(service, name, new)
            changed = True
    return changed


def _update_work_mode(service: Service, row: CatalogueRow, today: date, recorded_by: str) -> bool:
    """Set a changed work mode and record it (from today when the row has no date)."""
    if (service.work_mode, service.work_mode_since) == (row.work_mode, row.work_mode_since):
        return False
    service.work_mode = row.work_mode
    service.work_mode_since = row.work_mode_since
    _record_work_mode(service, row.work_mode, row.work_mode_since or today, recorded_by)
    return True


def _update_commitment(
    service: Service, row: CatalogueRow, today: date, recorded_by: str
) -> bool:
    """Set a changed commitment and record it from today; tell whether it changed.

    A file without the first-response columns keeps the service's first-response commitment.
    """
    first_value, first_unit = row.first_response or (
        service.first_response_value, service.first_response_unit
    )
    new = (row.commitment_value, row.commitment_unit, row.on_time_target, first_value, first_unit)
    if (service.commitment_value, service.commitment_unit, service.on_time_target,
            service.first_response_value, service.first_response_unit) == new:
        return False
    (service.commitment_value, service.commitment_unit, service.on_time_target,
     service.first_response_value, service.first_response_unit) = new
    _record_commitment(service, today, recorded_by, "catalogue import")
    return True


def bump_catalogue_version() -> None:
    """Mark the catalogue as changed, so that cached public pages are rendered again."""
    setting = db.session.get(SiteSetting, CATALOGUE_VERSION_KEY)
    if setting is None:
        setting = SiteSetting(key=CATALOGUE_VERSION_KEY, value="0")
        db.session.add(setting)
    setting.value = str(int(setting.value or 0) + 1)


def catalogue_import_file(text: str | io.TextIOBase, recorded_by: str = "import") -> ImportSummary:
    """Validate a whole CSV and import it, or write nothing and raise ValidationError."""
    stream = io.StringIO(text) if isinstance(text, str) else text
    return catalogue_import(catalogue_parse(stream), recorded_by=recorded_by)


# Reading the catalogue -------------------------------------------------------------------------


def department_ids_matching(words: list[str]) -> dict[str, set[int]]:
    """Return, for each search word, the departments whose names or short name have it."""
    found: dict[str, set[int]] = {word: set() for word in words}
    if not words:
        return found
    for department_id, stored in db.session.execute(
        select(Department.id, Department.search_names)
    ):
        for word in words:
            if search_matches(stored or "", word):
                found[word].add(department_id)
    return found


def service_search_filter(
    stmt: Select, words: list[str], departments: dict[str, set[int]] | None = None
) -> Select:
    """Keep the services that have every word as a word prefix (theirs or their department's).

    A service has a word when its names, code or keywords, its published standard's texts or
    its department's names have a word starting with it (the words are folded: a-z, 0-9).
    """
    if departments is None:
        departments = department_ids_matching(words)
    for word in words:
        pattern = f"% {word}%"
        clause = Service.search_names.like(pattern) | Service.search_texts.like(pattern)
        if departments[word]:
            clause = clause | Service.department_id.in_(sorted(departments[word]))
        stmt = stmt.where(clause)
    return stmt


def service_get(code: str, related: bool = True) -> Service:
    """Return one service with its department and histories, or raise NotFound.

    Without ``related``, the service's row alone (one statement): for readers of its figures,
    which need neither (they load on access, should they be needed).
    """
    # Unique: the joined histories give the service one row per pair of their entries.
    service = db.session.execute(
        _service_statement(related), {"code": code}).unique().scalar_one_or_none()
    if service is None:
        raise NotFound(code)
    return service


@lru_cache(maxsize=2)
def _service_statement(related: bool) -> Select:
    """Build service_get's statement once (the code bound when it runs): public pages read
    a service on every visit, and preparing the statement's options cost more than running it.

    The department and both histories are joined: one statement instead of three (each
    statement cost the ORM more than the rows it returns). A service's histories hold a
    handful of changes each, so the rows of their pairs stay few.
    """
    stmt = select(Service).where(Service.code == bindparam("code"))
    if not related:
        return stmt
    return stmt.options(
        joinedload(Service.department),
        joinedload(Service.work_mode_history),
        joinedload(Service.commitment_history),
    )


@lru_cache(maxsize=1)
def _department_statement() -> Select:
    """Build department_get's statement once (the code bound when it runs)."""
    return select(Department).where(Department.code == bindparam("code")).options(
        selectinload(Department.services))


def department_list() -> list[tuple[Department, int]]:
    """List departments with their number of services, by name."""
    count = func.count(Service.id)
    stmt = (
        select(Department, count)
        .outerjoin(Service, Service.department_id == Department.id)
        .group_by(Department.id)
        .order_by(Department.name_id)
    )
    return [(d, n) for d, n in db.session.execute(stmt)]


def department_choices() -> list:
    """List the departments a filter offers, by name: rows of their code, names and short name.

    Plain columns (a list of services shows the choice on every page), in the order of
    :func:`department_list`.
    """
    return list(db.session.execute(_department_choices_statement()))


@lru_cache(maxsize=1)
def _department_choices_statement() -> Select:
    """Build department_choices' statement once."""
    return select(Department.code, Department.name_id, Department.name_en,
                  Department.short_name).order_by(Department.name_id)


def department_get(code: str) -> Department:
    """Return one department with its services, or raise NotFound."""
    department = db.session.scalar(_department_statement(), {"code": code})
    if department is None:
        raise NotFound(code)
    return department


# Reading the catalogue with each service's status ---------------------------------------------


@dataclass(frozen=True)
class ServiceRow:
    """A service as lists show it: the catalogue facts and its shown status.

    ``service`` is the entity, or (a department's page, :func:`department_overview`) a named
    tuple of the columns a list shows, under the same names.
    """

    service: Service | tuple
    status: StatusView


def status_tally(views: Iterable[StatusView]) -> dict[str, int]:
    """Count shown statuses, every status present (zero when none)."""
    counts = dict.fromkeys(SERVICE_STATUSES, 0)
    for view in views:
        counts[view.status] = counts.get(view.status, 0) + 1
    return counts


class DepartmentNames(NamedTuple):
    """A department as the department list names it."""

    id: int
    code: str
    name_id: str
    name_en: str


@dataclass(frozen=True)
class DepartmentRow:
    """A department as the department list shows it: its services counted by status."""

    department: DepartmentNames
    services: int
    counts: dict[str, int]


@dataclass(frozen=True)
class DepartmentList:
    """The departments by name with their services counted by shown status, and when the
    least recently evaluated stored status was computed (None: none is stored), as
    :func:`~portal.services.catalogue.public_figures.oldest_status_time` reads it."""

    rows: list[DepartmentRow]
    oldest_status_at: datetime | None


def department_list_with_status(now: datetime | None = None) -> DepartmentList:
    """List departments by name with their services counted by shown status (at ``now``).

    One statement: the departments as plain columns (a list of them all, on a page read
    often), their services counted by the database as
    :func:`~portal.services.catalogue.tallies.status_tallies` counts them (no stored status
    row is read into Python), and the oldest stored status's time. Every stored status
    belongs to a service, and every service to a department: the oldest of the departments'
    is the oldest of all.
    """
    now = (now or utc_now()).astimezone(UTC)
    departments: dict[int, DepartmentNames] = {}
    counted, times = [], []
    # Through the session's connection: plain rows need none of the ORM's execution; all at
    # once (one fetch, not one a row).
    result = db.session.connection().execute(_department_list_statement(),
                                             {"silent_before": silent_before(now)}).all()
    for department_id, code, name_id, name_en, status, service_id, params, n, oldest in result:
        if department_id not in departments:
            departments[department_id] = DepartmentNames(department_id, code, name_id, name_en)
        if n:  # a department without services has one row, counting none
            counted.append((department_id, status, service_id, params, n))
        if oldest is not None:
            times.append(oldest)
    tallies = tallies_counted(counted, now)
    rows = []
    for department_id, department in departments.items():
        counts = tallies.get(department_id) or status_tally(())
        rows.append(DepartmentRow(department, sum(counts.values()), counts))
    return DepartmentList(rows, min(times, default=None))


@lru_cache(maxsize=1)
def _department_list_statement() -> Select:
    """Build department_list_with_status' statement once (the silence's limit bound when it
    runs): the departments by name, each with its services counted by shown status
    (tally_select's rows, one of none when it has no service) and their oldest stored
    status's time.

    Counted, then joined: the database groups the services alone and joins the departments
    to the groups (grouping the joined rows by the departments' names too cost it more).
    """
    counted = tally_select(Service.department_id,
                           func.min(ServiceStatus.computed_at)).subquery("counted")
    department_id, *counts = counted.c
    return (
        select(Department.id, Department.code, Department.name_id, Department.name_en,
               *counts)
        .outerjoin(counted, department_id == Department.id)
        .order_by(Department.name_id, Department.id)
    )


@dataclass(frozen=True)
class DepartmentOverview:
    """One department with each of its services' shown status and the counts.

    ``incidents``: the open incidents naming one of its services, as
    ``incident_list(department=..., include_resolved=False)`` lists them;
    ``last_reported_at``: the latest report on any of its services (None: none ever);
    ``as_of``: the instant the statuses are shown for; ``arrangement_history``: every version
    of its WFA arrangement, newest first, as ``arrangement_history`` gives it;
    ``channel_checks``: the checks of its services' online channels over the
    ARRANGEMENT_MEASURE_DAYS to ``as_of``, (all, successful), as ``availability_counts``
    counts them.
    """

    department: Department
    rows: list[ServiceRow]
    counts: dict[str, int]
    incidents: list[Incident]
    last_reported_at: datetime | None
    as_of: datetime
    arrangement_history: list[WfaArrangement]
    channel_checks: tuple[int, int]


# What a department's page shows of each service (its card, its online channel).
_OVERVIEW_COLUMNS = (Service.code, Service.name_id, Service.name_en, Service.work_mode,
                     Service.work_mode_since, Service.commitment_value, Service.commitment_unit,
                     Service.on_time_target, Service.online_url)


def department_overview(code: str, now: datetime | None = None) -> DepartmentOverview:
    """Return a department, its services with their status, the counts, its open incidents,
    its WFA arrangement's history and its online channels' availability checks.

    Two statements. The department is read with its arrangement's versions and the counts
    of its channels' checks: a department's page shows them all (each statement cost more
    than its few rows). The services are read as plain columns with what their shown status
    is built from, and their statuses built as :func:`status_for_services` builds them: the
    page shows dozens of services, and loading each as an entity cost more than its card.
    The same statement tells whether an incident is open on one of them: the incidents are
    read only then (most of the time none is).
    """
    now = now or utc_now()
    found_department = db.session.execute(_department_page_statement(), {
        "code": code, "start": now - timedelta(days=ARRANGEMENT_MEASURE_DAYS), "end": now,
    }).all()
    if not found_department:
        raise NotFound(code)
    department, _version, checks, succeeded = found_department[0]
    history = [version for _d, version, _c, _s in found_department if version is not None]
    # Through the session's connection: plain rows need none of the ORM's execution.
    result = db.session.connection().execute(
        _overview_statement(), {"department_id": department.id})
    found = list(map(_plain_row_type(tuple(result.keys()))._make, result))
    shown = build_shown([row.id for row in found], {row.id: row for row in found}, now)
    rows = [ServiceRow(row, shown[row.id][0]) for row in found]
    reported = [row.last_reported_at for row in found if row.last_reported_at is not None]
    incidents = (incident_list(department=department, include_resolved=False)
                 if any(row.incident_open for row in found) else [])
    return DepartmentOverview(department, rows, status_tally(row.status for row in rows),
                              incidents, max(reported, default=None), now, history,
                              (int(checks), int(succeeded)))


@lru_cache(maxsize=4)
def _plain_row_type(columns: tuple[str, ...]) -> type:
    """Return a named tuple of a statement's columns, to hold its rows' values.

    A result row's value by name cost about 0.6 µs (the row's ``__getattr__``), a named
    tuple's a tenth of that; a department's page reads each of its services' rows some
    twenty times (status, card, measures), copying each costs one read.
    """
    return namedtuple("ServiceColumns", columns)


@lru_cache(maxsize=1)
def _department_page_statement() -> Select:
    """Build department_overview's department statement once (its code and the checks'
    window bound when it runs): the department, a row per version of its arrangement (one
    row, version None, when it has none), newest first, each with its online channels'
    checks counted (a one-row subquery: the database counts them once)."""
    # Its services with an online channel: an address, as arrangement_measures counts them.
    online = (select(Service.id)
              .join(Department, Department.id == Service.department_id)
              .where(Department.code == bindparam("code"), Service.online_url != "")
              .correlate(None))
    checks = availability_counts_query(online).subquery("checks")
    return (select(Department, WfaArrangement, *checks.c)
            .select_from(Department)
            .join(checks, true())
            .outerjoin(WfaArrangement, WfaArrangement.department_id == Department.id)
            .where(Department.code == bindparam("code"))
            .order_by(*ARRANGEMENT_HISTORY_ORDER))


@lru_cache(maxsize=1)
def _overview_statement() -> Select:
    """Build department_overview's services statement once (the department bound when it
    runs), in the order of ``Department.services``."""
    incident_open = open_incident_exists(Service.id).label("incident_open")
    return (shown_query().add_columns(*_OVERVIEW_COLUMNS, incident_open)
            .where(Service.department_id == bindparam("department_id"))
            .order_by(Service.name_id))
