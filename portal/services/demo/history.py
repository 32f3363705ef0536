"""Demo data: 180 days of generated, deterministic service-request history per service.

Written through the same ingest code as the reporting API, so the demo shows exactly what real
reports would. Deterministic: every request of a service and WIB day comes from a random
generator seeded by (seed, service code, day), and is identified as ``DEMO-YYYYMMDD-NNN``, so a
re-run on the same day changes nothing and a re-run later only adds the new days and the
completions that have happened since.

What the demo shows:
- services that moved to WFA or hybrid during the period (their ``work_mode_since``) get
  better or worse after the move (alternating, by code), the others stay level;
- ``SILENT_SERVICE`` stopped reporting ``SILENT_DAYS`` days ago, so it shows ``no_data``;
- ``SPARSE_SERVICES`` receive a request every week or so: ``insufficient_data``.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.domain.calendar import UTC, WIB, WorkingCalendar, utc_now, wib_date
from portal.extensions import db
from portal.models.catalogue import Service
from portal.services.metrics.calendar_days import calendar_current
from portal.services.metrics.service_requests import MAX_BATCH, service_requests_ingest
from portal.services.metrics.status import status_refresh

log = logging.getLogger(__name__)

DEMO_SEED = 20260601
SILENT_SERVICE = "dishub-persetujuan-andalalin"
SILENT_DAYS = 12
SPARSE_SERVICES = (
    "dinsos-izin-pengangkatan-anak",
    "disbun-fasilitasi-konflik-perkebunan",
    "disnakertrans-mediasi-hubungan-industrial",
)
# Services that serve round the clock (hour-based commitments) receive on weekends too.
WEEKEND_SHARE = 0.4


@dataclass
class HistorySummary:
    """What the demo history generation wrote."""

    services: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class _Profile:
    """How one demo service behaves."""

    volume: float
    on_time: float
    on_time_after: float
    online_share: float
    since: date | None


def _profile(service: Service, index_among_movers: int | None, seed: int) -> _Profile:
    """Draw a service's behaviour from a generator seeded by its code."""
    rng = random.Random(f"{seed}:{service.code}")
    if service.code in SPARSE_SERVICES:
        volume = 0.15
    elif service.commitment_unit == "hours":
        volume = rng.uniform(20, 40)
    else:
        volume = rng.uniform(5, 18)
    on_time = rng.uniform(0.80, 0.97)
    after = on_time
    since = None
    if index_among_movers is not None:
        since = service.work_mode_since
        change = rng.uniform(0.07, 0.15)
        # Alternate: the first mover improves, the next declines, and so on.
        after = min(0.99, on_time + change) if index_among_movers % 2 == 0 else max(
            0.55, on_time - change)
    online = rng.uniform(0.5, 0.85) if service.online_url else rng.uniform(0.0, 0.15)
    return _Profile(volume, on_time, after, online, since)


def _day_requests(
    service: Service,
    profile: _Profile,
    day: date,
    calendar: WorkingCalendar,
    seed: int,
    cut: datetime,
) -> list[dict]:
    """Generate the requests a service received on one WIB day, as seen at ``cut``."""
    hours_based = service.commitment_unit == "hours"
    if not calendar.is_working_day(day) and not (hours_based and profile.volume >= 1):
        return []
    rng = random.Random(f"{seed}:{service.code}:{day.isoformat()}")
    volume = profile.volume if calendar.is_working_day(day) else profile.volume * WEEKEND_SHARE
    if volume < 1:
        count = 1 if rng.random() < volume * (7 / 5) else 0
    else:
        count = rng.randint(round(volume * 0.6), round(volume * 1.4))
    p_on_time = profile.on_time_after if profile.since and day >= profile.since else (
        profile.on_time)
    value = service.commitment_value
    requests = []
    for k in range(count):
        start_minute = rng.randrange(0, 24 * 60) if hours_based else rng.randrange(
            8 * 60, 15 * 60 + 30)
        received = datetime.combine(day, time(start_minute // 60, start_minute % 60), WIB)
        on_time = rng.random() < p_on_time
        if hours_based:
            share = rng.uniform(0.15, 0.95) if on_time else rng.uniform(1.05, 2.5)
            completed = received + timedelta(minutes=max(5, round(value * 60 * share)))
        else:
            offset = rng.randint(0, value) if on_time else value + rng.randint(1, 4)
            done_day = calendar.add_working_days(day, offset)
            minute = rng.randrange(9 * 60, 16 * 60)
            completed = datetime.combine(done_day, time(minute // 60, minute % 60), WIB)
            if completed <= received:
                completed = received + timedelta(minutes=rng.randrange(20, 120))
        first = received + timedelta(minutes=rng.randrange(10, 6 * 60))
        if rng.random() < 0.1:
            first += timedelta(days=rng.randint(1, 3))
        if rng.random() < 0.01:
            completed = None  # stuck: stays in the backlog
        if completed is not None and first > completed:
            first = completed
        channel = "online" if rng.random() < profile.online_share else rng.choice(
            ("counter", "counter", "phone", "other"))
        if received >= cut:
            continue
        requests.append({
            "service": service.code,
            "id": f"DEMO-{day:%Y%m%d}-{k:03d}",
            "received_at": received.isoformat(),
            "first_response_at": first.isoformat() if first <= cut else None,
            "completed_at": completed.isoformat() if completed and completed <= cut else None,
            "channel": channel,
        })
    return requests


def demo_history_generate(
    today: date | None = None, days: int = 180, seed: int = DEMO_SEED,
    now: datetime | None = None,
) -> HistorySummary:
    """Generate and ingest the demo request history of every service, up to now."""
    now = (now or utc_now()).astimezone(UTC)
    today = today or wib_date(now)
    if today != wib_date(now):
        now = min(now, datetime.combine(today, time(12), WIB).astimezone(UTC))
    first_day = today - timedelta(days=days - 1)
    calendar = calendar_current()
    services = list(db.session.scalars(
        select(Service).options(selectinload(Service.department)).order_by(Service.code)))
    movers = [s.code for s in services
              if s.work_mode != "onsite" and s.work_mode_since
              and first_day < s.work_mode_since <= today]
    summary = HistorySummary(services=len(services))
    for service in services:
        index = movers.index(service.code) if service.code in movers else None
        profile = _profile(service, index, seed)
        cut = now - timedelta(days=SILENT_DAYS) if service.code == SILENT_SERVICE else now
        requests: list[dict] = []
        day = first_day
        while day <= today:
            requests.extend(_day_requests(service, profile, day, calendar, seed, cut))
            day += timedelta(days=1)
        for start in range(0, max(len(requests), 1), MAX_BATCH):
            result = service_requests_ingest(
                service.department, requests[start:start + MAX_BATCH], [service.code], now=cut
            )
            summary.created += result.created
            summary.updated += result.updated
            summary.unchanged += result.unchanged
    # The silent service was stored as of its last report; evaluate everyone as of now.
    status_refresh(now=now)
    log.info("demo history: %d services, %d created, %d updated, %d unchanged",
             summary.services, summary.created, summary.updated, summary.unchanged)
    return summary
