"""Helpers of the open-data tests: reading CSVs back, and a small province with every kind of
data (requests through the real ingest, a WFA move, feedback, survey answers, an incident,
maintenance and availability checks), relative to today so that downloads cover it."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from portal.domain.calendar import WIB, utc_now, wib_date
from portal.extensions import db
from portal.models.incidents import AvailabilityCheck
from portal.models.survey import SurveyResponse
from portal.services.feedback.citizen import feedback_submit
from portal.services.feedback.handling import feedback_answer
from portal.services.metrics.incidents import incident_open, maintenance_schedule
from portal.services.metrics.service_requests import service_requests_ingest
from portal.services.opendata.datasets import dataset_get
from portal.services.opendata.downloads import csv_stream
from portal.services.opendata.selection import selection_parse
from tests.factories import create_department, create_service, create_user
from tests.feedback_support import create_triage_unit, valid_data
from tests.wfa_support import report_due

_ids = itertools.count(1)
_tokens = itertools.count(1)


def csv_rows(data: bytes) -> list[dict[str, str]]:
    """Read a downloaded CSV (UTF-8, header row) into one dict per row."""
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def stream_rows(name: str, now: datetime, **filters: str | list[str]) -> list[dict[str, str]]:
    """Write a dataset's CSV through the service, filtered, and read it back."""
    dataset = dataset_get(name)
    args = {key.rstrip("_"): value if isinstance(value, list) else [value]
            for key, value in filters.items()}
    selection = selection_parse(dataset, args, now)
    return csv_rows(b"".join(csv_stream(dataset, selection)))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """Return a WIB time on a day."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=WIB)


def request_item(service: Any, received: datetime, completed: datetime | None = None,
                 first_response: datetime | None = None, channel: str | None = None) -> dict:
    """Return one request as the reporting API takes it."""
    item: dict[str, Any] = {
        "service": service.code,
        "id": f"req-{next(_ids)}",
        "received_at": received.isoformat(),
        "completed_at": completed.isoformat() if completed else None,
    }
    if first_response is not None:
        item["first_response_at"] = first_response.isoformat()
    if channel is not None:
        item["channel"] = channel
    return item


def add_survey_answers(service: Any, when: datetime, count: int, **scores: int) -> None:
    """Store ``count`` survey answers about a service (every element 3 unless given)."""
    answers = {f"u{i}": 3 for i in range(1, 10)} | scores
    for _ in range(count):
        db.session.add(SurveyResponse(service_id=service.id, visit_token=f"v-{next(_tokens)}",
                                      submitted_at=when, **answers))
    db.session.commit()


def add_checks(service: Any, checks: Iterable[tuple[datetime, bool]]) -> None:
    """Store availability checks of a service: (when, succeeded)."""
    for when, ok in checks:
        db.session.add(AvailabilityCheck(
            service_id=service.id, checked_at=when, ok=ok, status_code=200 if ok else 503,
            elapsed_ms=120, error="" if ok else "HTTP 503"))
    db.session.commit()


# A reporter who asked to stay confidential: none of this may appear in any download.
REPORTER = {"name": "Rahmat Hidayatullah", "email": "rahmat.h@example.net",
            "phone": "0813 9988 7766"}
FEEDBACK_SUBJECT = "Petugas minta uang tambahan"
FEEDBACK_BODY = "Di loket 3 saya diminta membayar Rp 50.000 di luar tarif resmi."


@dataclass
class Province:
    """What build_province made."""

    today: date
    first_day: date  # the first WIB day with daily figures
    wfa_change: date
    health: Any
    revenue: Any
    clinic: Any
    samsat: Any
    feedback: Any
    admin: Any


def build_province(now: datetime | None = None) -> Province:
    """Make a small province with data in every dataset, all of it before today.

    - Dinas Kesehatan (``dinkes``): ``izin-klinik``, a 2-hour commitment with a 1-hour
      first response, 4 requests 20 days ago; 30 survey answers; a confidential complaint
      about it, answered.
    - Bapenda (``bapenda``): ``samsat-online``, WFA since 60 days ago, 40 requests due before
      and 40 after (from 90 days before the move), an open major incident whose Indonesian
      title starts with "=", maintenance 20 days ago and availability checks around it.
    """
    now = now or utc_now()
    today = wib_date(now)
    day = today - timedelta(days=20)
    change = today - timedelta(days=60)
    create_triage_unit()
    health = create_department(code="dinkes", name_id="Dinas Kesehatan",
                               name_en="Health Office")
    revenue = create_department(code="bapenda", name_id="@Badan Pendapatan Daerah",
                                name_en="Revenue Agency")
    clinic = create_service(department=health, code="izin-klinik", name_id="Izin klinik",
                            name_en="Clinic permit", commitment_value=2,
                            commitment_unit="hours", first_response_value=1,
                            first_response_unit="hours")
    samsat = create_service(department=revenue, code="samsat-online",
                            name_id="Samsat online", name_en="Online vehicle tax",
                            commitment_value=2, commitment_unit="hours", work_mode="wfa",
                            work_mode_since=change, online_url="https://samsat.example.go.id")
    service_requests_ingest(health, [
        request_item(clinic, at(day, 8), at(day, 9), at(day, 8, 30), "online"),
        request_item(clinic, at(day, 8), at(day, 12), at(day, 9, 30)),
        request_item(clinic, at(day, 8)),
        request_item(clinic, at(day, 8), at(day, 10), at(day, 8, 45)),
    ], now=now)
    report_due(samsat, change - timedelta(days=90), on_time=1, now=now)
    report_due(samsat, change - timedelta(days=1), on_time=39, now=now)
    report_due(samsat, change, on_time=10, late=30, now=now)

    officer = create_user("officer", department=health)
    admin = create_user("admin")
    feedback = feedback_submit(valid_data(
        service=clinic.code, subject=FEEDBACK_SUBJECT, body=FEEDBACK_BODY, confidential=True,
        **REPORTER), "id", now=at(day, 10))
    feedback_answer(officer, feedback.id, "Kami periksa laporan Anda.", now=at(day, 12))
    add_survey_answers(clinic, at(day, 11), 30)

    incident_open(admin, [samsat.code], "major", "=HYPERLINK(\"http://x.example\") gangguan",
                  "Samsat down", "Sedang diperiksa.", "Being checked.", now=at(day, 7))
    maintenance_schedule(admin, [samsat.code], at(day, 1), at(day, 3), "Pemeliharaan server",
                         "Server maintenance", "-Mulai pukul 01.00", "")
    add_checks(samsat, [(at(day, 0, 30), True), (at(day, 2), False), (at(day, 23, 30), False),
                        (at(day + timedelta(days=1), 0, 30), True)])
    return Province(today, change - timedelta(days=90), change, health, revenue, clinic,
                    samsat, feedback, admin)
