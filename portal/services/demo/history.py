"""Demo data: a year of generated, deterministic service-request history per service.

Written through the same ingest code as the reporting API, so the demo shows exactly what real
reports would, in large batches (a department's requests, ``MAX_BATCH`` at a time) so that
``demo load`` stays quick. Deterministic: a service's requests are drawn four weeks at a time
(``BLOCK_DAYS``, counted from a fixed date, not from today) by a random generator seeded by
(seed, service code, block), and identified as ``DEMO-YYYYMMDD-NNN``, so a re-run on the same
day changes nothing and a re-run later only adds the new days and the completions that have
happened since. Within a block, the share of requests completed on time is kept exactly (up
to rounding) rather than left to one coin per request: a service that behaves the same before
and after its move then shows no change by chance, and a showcase shows its change clearly.

The history covers the last ``HISTORY_DAYS`` days up to today, and reaches back at least 90
days before the earliest move to WFA or hybrid work in the catalogue, so that the WFA impact
of every service compares whole windows (docs/definitions.md, section 6).

What the demo shows, each by a service whose data are drawn so that the real rules give it:

- WFA impact (section 6): ``WFA_DECLINE`` completes far fewer requests on time after its move
  while its department's on-site service stays level (``decline``, adjusted ``decline``);
  ``WFA_IMPROVEMENT`` far more (``improvement``); ``WFA_NO_CHANGE`` as many
  (``no_significant_change``); ``WFA_EXPLAINED_AWAY`` fewer, but so do its department's on-site
  services over the same weeks, slowed by a national system (``decline``, adjusted
  ``no_significant_change``); the departments of ``LATE_JOINERS`` began reporting after their
  services' before window had begun (``not_enough_data``, ``partial_history``). Every other
  service behaves the same before and after its move.
- ``NEVER_CLOSED_SERVICE`` never closes a fifth of its requests: they count as late and still
  open, and pull its on-time rate below its commitment. Every other service leaves about one
  request in a hundred open.
- ``SILENT_SERVICE`` stopped reporting ``SILENT_DAYS`` days ago, so it shows ``no_data``.
- ``SPARSE_SERVICES`` receive a request every week or so: ``insufficient_data``, and too few
  requests for a WFA verdict.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.domain.calendar import UTC, WIB, WorkingCalendar, utc_now, wib_date
from portal.extensions import db
from portal.models.catalogue import Department, Service
from portal.services.metrics.calendar_days import calendar_current
from portal.services.metrics.service_requests import MAX_BATCH, service_requests_ingest
from portal.services.metrics.status import status_refresh
from portal.services.metrics.wfa_impact import WFA_MODES, WINDOW_DAYS

log = logging.getLogger(__name__)

DEMO_SEED = 20260601
HISTORY_DAYS = 365
BLOCK_DAYS = 28

WFA_DECLINE = "dinkes-pengaduan-fasyankes"
WFA_IMPROVEMENT = "disdik-pengaduan-spmb"
WFA_NO_CHANGE = "bkd-kenaikan-pangkat"
WFA_EXPLAINED_AWAY = "samsat-pkb-tahunan"
# Share of requests on time (before the move, after it) of the services that show a change.
WFA_CHANGES = {WFA_DECLINE: (0.94, 0.78), WFA_IMPROVEMENT: (0.83, 0.96)}
# The national system slowdown: every service of WFA_EXPLAINED_AWAY's department completes
# this much fewer of its requests on time from that service's move to the end of its after
# window, whatever its work mode.
SLOWDOWN = 0.12
# Departments that began reporting on a date (their services' reporting start).
LATE_JOINERS = {"biro-organisasi": date(2026, 8, 3)}
NEVER_CLOSED_SERVICE = "disdukcapil-masalah-data-kependudukan"
NEVER_CLOSED_SHARE = 0.2
# Every other service forgets to close this share of its requests.
STUCK_SHARE = 0.01
SILENT_SERVICE = "dishub-persetujuan-andalalin"
SILENT_DAYS = 12
SPARSE_SERVICES = (
    "dinsos-izin-pengangkatan-anak",
    "disbun-fasilitasi-konflik-perkebunan",
    "disnakertrans-mediasi-hubungan-industrial",
)
SHOWCASES = (WFA_DECLINE, WFA_IMPROVEMENT, WFA_NO_CHANGE, WFA_EXPLAINED_AWAY,
             NEVER_CLOSED_SERVICE)
# Requests per working day (per day for hour-based services) of an ordinary service, and at
# least those of a showcase, whose verdict must rest on a few hundred requests per side. Kept
# low: the ingest is most of the time ``demo load`` takes.
WORKING_DAY_VOLUME = (1.0, 3.0)
HOURS_VOLUME = (3.0, 6.0)
SHOWCASE_VOLUME = {"working_days": 5.0, "hours": 10.0}
# Services that serve round the clock (hour-based commitments) receive on weekends too.
WEEKEND_SHARE = 0.4
_OFFLINE_CHANNELS = ("counter", "counter", "phone", "other")


@dataclass
class HistorySummary:
    """What the demo history generation wrote."""

    services: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class _Slowdown:
    """A department's services complete fewer requests on time over some days."""

    department_id: int
    first: date
    last: date
    drop: float


@dataclass(frozen=True)
class _Profile:
    """How one demo service behaves."""

    volume: float
    on_time: float
    on_time_after: float
    online_share: float
    since: date | None
    never_closed: float
    reporting_from: date | None
    slowdown: _Slowdown | None

    def on_time_share(self, due_day: date) -> float:
        """Return the share of the requests due on a WIB day that are completed on time."""
        share = self.on_time_after if self.since is not None and due_day >= self.since else (
            self.on_time)
        slowdown = self.slowdown
        if slowdown is not None and slowdown.first <= due_day <= slowdown.last:
            share -= slowdown.drop
        return share


def _move_date(service: Service) -> date | None:
    """Return the date a service moved to WFA or hybrid work (None if it works on site)."""
    return service.work_mode_since if service.work_mode in WFA_MODES else None


def _profile(service: Service, seed: int, slowdown: _Slowdown | None) -> _Profile:
    """Draw a service's behaviour from a generator seeded by its code."""
    rng = random.Random(f"{seed}:{service.code}")
    unit = service.commitment_unit
    low, high = HOURS_VOLUME if unit == "hours" else WORKING_DAY_VOLUME
    volume = rng.uniform(low, high)
    if service.code in SPARSE_SERVICES:
        volume = 0.15
    elif service.code in SHOWCASES:
        volume = max(volume, SHOWCASE_VOLUME[unit])
    on_time = rng.uniform(0.80, 0.97)
    after = on_time
    if service.code in WFA_CHANGES:
        on_time, after = WFA_CHANGES[service.code]
    elif service.code == WFA_EXPLAINED_AWAY:
        # Meets its 95% commitment apart from the slowdown, so the decline is the slowdown's.
        on_time = after = 0.97
    elif service.code == NEVER_CLOSED_SERVICE:
        # Would meet its commitment if it closed the requests it leaves open.
        on_time = after = 0.99
    online = rng.uniform(0.5, 0.85) if service.online_url else rng.uniform(0.0, 0.15)
    return _Profile(
        volume=volume,
        on_time=on_time,
        on_time_after=after,
        online_share=online,
        since=_move_date(service),
        never_closed=NEVER_CLOSED_SHARE if service.code == NEVER_CLOSED_SERVICE else STUCK_SHARE,
        reporting_from=LATE_JOINERS.get(service.department.code),
        slowdown=slowdown if slowdown and slowdown.department_id == service.department_id
        else None,
    )


def _slowdown(services: list[Service]) -> _Slowdown | None:
    """Return the slowdown of WFA_EXPLAINED_AWAY's department, over that service's after window."""
    for service in services:
        since = _move_date(service) if service.code == WFA_EXPLAINED_AWAY else None
        if since is not None:
            return _Slowdown(service.department_id, since,
                             since + timedelta(days=WINDOW_DAYS - 1), SLOWDOWN)
    return None


class _Days:
    """The calendar facts the generator asks for again and again, computed once."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self._calendar = calendar
        self._working: dict[date, bool] = {}
        self._added: dict[tuple[date, int], date] = {}
        self._midnights: dict[date, datetime] = {}

    def is_working(self, day: date) -> bool:
        """Tell whether a WIB date is a working day."""
        working = self._working.get(day)
        if working is None:
            working = self._working[day] = self._calendar.is_working_day(day)
        return working

    def add(self, day: date, n: int) -> date:
        """Return the n-th working day after a date (n = 0: the date or the next working day)."""
        key = (day, n)
        found = self._added.get(key)
        if found is None:
            found = self._added[key] = self._calendar.add_working_days(day, n)
        return found

    def at(self, day: date, minute: float) -> datetime:
        """Return the instant some minutes after a WIB date's midnight."""
        midnight = self._midnights.get(day)
        if midnight is None:
            midnight = self._midnights[day] = datetime(day.year, day.month, day.day, tzinfo=WIB)
        return midnight + timedelta(minutes=int(minute))


def _pick(rng: random.Random, indexes: list[int], share: float, flags: list[bool]) -> None:
    """Set the flags of about ``share`` of some requests, chosen at random (up to rounding)."""
    chosen = min(len(indexes), int(len(indexes) * share + rng.random()))
    for index in rng.sample(indexes, chosen):
        flags[index] = True


def _block_requests(
    service: Service,
    profile: _Profile,
    block: int,
    days: _Days,
    seed: int,
    keep_from: date,
    cut: datetime,
) -> list[dict]:
    """Generate the requests a service receives over one block of days, as seen at ``cut``.

    The whole block is drawn whatever part of it is kept (days from ``keep_from``, requests
    received before ``cut``), so that what a day holds never depends on when it is drawn.
    """
    rng = random.Random(f"{seed}:{service.code}:{block}")
    draw = rng.random
    hours_based = service.commitment_unit == "hours"
    value = service.commitment_value
    first_day = date.fromordinal(block * BLOCK_DAYS)
    slots: list[tuple[date, int]] = []
    for offset in range(BLOCK_DAYS):
        day = first_day + timedelta(days=offset)
        working = days.is_working(day)
        x = draw()  # drawn for every day, so that each day's count depends on that day alone
        if not working and not (hours_based and profile.volume >= 1):
            continue
        volume = profile.volume if working else profile.volume * WEEKEND_SHARE
        if volume < 1:
            count = 1 if x < volume * (7 / 5) else 0
        else:
            low, high = round(volume * 0.6), round(volume * 1.4)
            count = low + int(x * (high - low + 1))
        slots.extend((day, k) for k in range(count))
    # On time: each share kept among the requests that fall due under it (a change shows in
    # the requests that fall due after it, as the WFA windows count them).
    by_share: dict[float, list[int]] = defaultdict(list)
    for index, (day, _k) in enumerate(slots):
        due_day = day if hours_based else days.add(day, value)
        by_share[profile.on_time_share(due_day)].append(index)
    on_time = [False] * len(slots)
    for share, indexes in by_share.items():
        _pick(rng, indexes, share, on_time)
    never_closed = [False] * len(slots)
    _pick(rng, list(range(len(slots))), profile.never_closed, never_closed)

    requests = []
    for index, (day, k) in enumerate(slots):
        received = days.at(day, draw() * 24 * 60 if hours_based else 8 * 60 + draw() * 450)
        if hours_based:
            share = 0.15 + draw() * 0.8 if on_time[index] else 1.05 + draw() * 1.45
            done = received + timedelta(minutes=max(5, round(value * 60 * share)))
        else:
            offset = int(draw() * (value + 1)) if on_time[index] else value + 1 + int(
                draw() * 4)
            done = days.at(days.add(day, offset), 9 * 60 + draw() * 420)
            if done <= received:
                done = received + timedelta(minutes=20 + int(draw() * 100))
        first = received + timedelta(minutes=10 + int(draw() * 350))
        if draw() < 0.1:
            first += timedelta(days=1 + int(draw() * 3))
        # Never closed: late and still open once it falls due.
        completed = None if never_closed[index] else done
        if completed is not None:
            first = min(first, completed)
        channel = "online" if draw() < profile.online_share else _OFFLINE_CHANNELS[
            int(draw() * len(_OFFLINE_CHANNELS))]
        if day < keep_from or received >= cut:
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


def _first_day(services: list[Service], today: date, days: int = HISTORY_DAYS) -> date:
    """Return the first day of the demo history: ``days`` ago, or earlier to cover every move.

    A service's before window starts 90 days before its move, and its reporting start (its
    first request) must not be after that; the history starts two weeks earlier still, so that
    services open on working days only have received a request by then, whatever weekend or
    holiday the 90th day before the move falls on.
    """
    first = today - timedelta(days=days - 1)
    moves = [since for s in services if (since := _move_date(s)) is not None and since <= today]
    if moves:
        first = min(first, min(moves) - timedelta(days=WINDOW_DAYS + 14))
    return first


def demo_history_generate(
    today: date | None = None, days: int = HISTORY_DAYS, seed: int = DEMO_SEED,
    now: datetime | None = None,
) -> HistorySummary:
    """Generate and ingest the demo request history of every service, up to now."""
    now = (now or utc_now()).astimezone(UTC)
    today = today or wib_date(now)
    if today != wib_date(now):
        now = min(now, datetime.combine(today, time(12), WIB).astimezone(UTC))
    services = list(db.session.scalars(
        select(Service).options(selectinload(Service.department)).order_by(Service.code)))
    first_day = _first_day(services, today, days)
    blocks = range(first_day.toordinal() // BLOCK_DAYS, today.toordinal() // BLOCK_DAYS + 1)
    slowdown = _slowdown(services)
    calendar_days = _Days(calendar_current())
    summary = HistorySummary(services=len(services))
    # One report per department (the silent service's as of its last report), in batches.
    groups: dict[tuple[int, datetime], tuple[Department, list[str], list[dict]]] = {}
    silent_ids = []
    for service in services:
        profile = _profile(service, seed, slowdown)
        cut = now
        if service.code == SILENT_SERVICE:
            cut = now - timedelta(days=SILENT_DAYS)
            silent_ids.append(service.id)
        keep_from = max(first_day, profile.reporting_from or first_day)
        department, codes, requests = groups.setdefault(
            (service.department_id, cut), (service.department, [], []))
        codes.append(service.code)
        for block in blocks:
            requests.extend(_block_requests(service, profile, block, calendar_days, seed,
                                            keep_from, cut))
    for (_department_id, cut), (department, codes, requests) in groups.items():
        # A service without any request reports so (an empty report), in the last batch.
        reporting = {request["service"] for request in requests}
        empty = [code for code in codes if code not in reporting]
        starts = list(range(0, len(requests), MAX_BATCH)) or [0]
        for start in starts:
            result = service_requests_ingest(
                department, requests[start:start + MAX_BATCH],
                empty if start == starts[-1] else [], now=cut,
            )
            summary.created += result.created
            summary.updated += result.updated
            summary.unchanged += result.unchanged
    if silent_ids:
        # Stored as of its last report by the ingest: evaluate it as of now.
        status_refresh(silent_ids, now=now)
    log.info("demo history from %s: %d services, %d created, %d updated, %d unchanged",
             first_day, summary.services, summary.created, summary.updated, summary.unchanged)
    return summary
