"""A service page's figures stored with its status (portal/services/metrics/page_figures.py):
the same as the page computes from the days, read in one statement, never used when stale."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, event, select, update

from portal.domain.calendar import wib_date
from portal.extensions import db
from portal.models import AvailabilityCheck, ServicePageFigures, WorkModeChange
from portal.services.catalogue.public_figures import _computed_figures, service_figures
from portal.services.metrics.page_figures import PAGE_FIGURES_FORMAT, page_figures_decode
from portal.services.metrics.status import status_refresh
from portal.services.metrics.wfa_impact import latest_move
from tests.services.metrics.test_status_metrics import (
    NOW,
    hours_service,
    mixed_services,  # noqa: F401 (a fixture)
    report,
    requests,
    wib,
)


def _spread(service, first: date, last: date, prefix: str) -> list[dict]:
    """Return requests received every third day from first to last, some late, some open."""
    items, day, n = [], first, 0
    while day <= last:
        received = wib(day.year, day.month, day.day, 8)
        hours = (1, 30, None, 2, 1)[n % 5]
        items.append({"service": service.code, "id": f"{prefix}{n}",
                      "received_at": received.isoformat(),
                      "completed_at": None if hours is None
                      else (received + timedelta(hours=hours)).isoformat()})
        day += timedelta(days=3)
        n += 1
    return items


def _moved(department, moves: list[tuple[str, date | None]], prefix: str):
    """A service with a dated work-mode history and a year and a half of requests."""
    service = hours_service(department, work_mode=moves[-1][0])
    service.work_mode_history.clear()
    for mode, since in moves:
        service.work_mode_history.append(WorkModeChange(work_mode=mode, effective_from=since))
    db.session.commit()
    report(service, _spread(service, date(2024, 4, 1), date(2025, 9, 28), prefix)
           + requests(service, 2, 0, open_=1, day=30, prefix=prefix + "today"))
    return service


@pytest.fixture
def page_services(mixed_services) -> list:  # noqa: F811
    """The status rules' services, and services moved long ago, lately, twice and not yet."""
    department = mixed_services[0].department
    moved = [
        # Long ago: the trend starts on the first aligned day of its 78 weeks.
        _moved(department, [("onsite", None), ("wfa", date(2024, 5, 6))], "a"),
        # Lately: the trend starts 13 weeks before the move.
        _moved(department, [("onsite", None), ("hybrid", date(2025, 8, 13))], "b"),
        # Twice: hybrid, then WFA (the latest move is the one drawn).
        _moved(department, [("onsite", None), ("hybrid", date(2025, 1, 2)),
                            ("wfa", date(2025, 6, 3))], "c"),
        # Announced for later: no trend yet.
        _moved(department, [("onsite", None), ("wfa", date(2025, 12, 1))], "d"),
    ]
    return [*mixed_services, *moved]


def _stored(service) -> str | None:
    return db.session.scalar(select(ServicePageFigures.figures)
                             .where(ServicePageFigures.service_id == service.id))


@pytest.mark.parametrize("now", [pytest.param(NOW, id="midday"),
                                 pytest.param(wib(2025, 10, 1, 0, 30), id="just-after-midnight"),
                                 pytest.param(NOW + timedelta(days=9), id="after-a-silence")])
def test_stored_page_figures_equal_those_computed_from_the_days(page_services, now):
    status_refresh(now=now)
    db.session.expire_all()
    trends = 0
    for service in page_services:
        assert _stored(service) is not None
        figures = service_figures(service)
        assert figures.computed and figures.as_of == now
        move = latest_move(service.work_mode_history)
        # Read from the stored figures...
        assert page_figures_decode(_stored(service), figures.as_of, move) is not None
        # ... equal to those computed from the days.
        windows, daily, trend = _computed_figures(service, figures.status, True,
                                                  figures.as_of, move)
        assert figures.windows == windows
        assert figures.daily == daily
        assert figures.trend == trend
        assert len(figures.daily) == 90 and figures.daily[-1].day == wib_date(now)
        trends += trend is not None
    # Three services have a trend to draw (one announced for later has none).
    assert trends == 3


def test_a_later_evaluation_rewrites_the_figures_and_stores_missing_ones(page_services):
    status_refresh(now=NOW)
    gone = page_services[0]
    db.session.execute(delete(ServicePageFigures)
                       .where(ServicePageFigures.service_id == gone.id))
    db.session.commit()
    later = NOW + timedelta(days=1)
    status_refresh(now=later)
    db.session.expire_all()
    stored = dict(db.session.execute(select(ServicePageFigures.service_id,
                                            ServicePageFigures.figures)).all())
    assert sorted(stored) == sorted(service.id for service in page_services)
    for service in page_services:
        figures = service_figures(service)
        assert figures.as_of == later
        assert page_figures_decode(stored[service.id], later,
                                   latest_move(service.work_mode_history)) is not None


def test_a_service_page_reads_its_stored_figures_with_its_status(page_services):
    status_refresh(now=NOW)
    db.session.expire_all()
    service = page_services[-2]  # moved twice: a trend of 78 weeks at most
    assert service.work_mode_history  # the page's own read of the service loads it
    statements: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        figures = service_figures(service)
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    # The status with its notices and the stored figures: no day, no request read.
    assert len(statements) == 1
    assert figures.trend is not None and figures.trend.mode == "wfa"
    assert figures.trend.moved_on == date(2025, 6, 3)


def test_figures_stored_around_another_move_are_computed_afresh(page_services):
    status_refresh(now=NOW)
    service = page_services[-3]  # moved to hybrid on 13 August 2025
    service.work_mode_history.append(WorkModeChange(work_mode="wfa",
                                                    effective_from=date(2025, 9, 15)))
    db.session.commit()
    db.session.expire_all()
    figures = service_figures(service)
    # The trend is drawn around the move recorded since the evaluation, as of it.
    assert figures.trend is not None
    assert (figures.trend.mode, figures.trend.moved_on) == ("wfa", date(2025, 9, 15))
    assert figures.as_of == NOW


@pytest.mark.parametrize("change", ["other-instant", "other-format", "none"])
def test_figures_not_stored_with_the_status_shown_are_not_used(page_services, change):
    status_refresh(now=NOW)
    service = page_services[-4]  # moved long ago
    expected = service_figures(service)
    # Figures that would show if they were used: other counts than the page's.
    stored = json.loads(_stored(service))
    wrong = {**stored, "daily": [[0, 0, 0, 0]] * 90,
             "window": {**stored["window"], "received": -1}}
    if change == "other-instant":
        # A status written at another instant without its figures (an older writer).
        value = json.dumps({**wrong, "as_of": (NOW - timedelta(hours=1)).isoformat()})
    elif change == "other-format":
        value = json.dumps({**wrong, "format": PAGE_FIGURES_FORMAT + 1})
    else:
        value = None
    figures = ServicePageFigures.service_id == service.id
    if value is None:
        db.session.execute(delete(ServicePageFigures).where(figures))
    else:
        db.session.execute(update(ServicePageFigures).where(figures).values(figures=value))
    db.session.commit()
    db.session.expire_all()
    again = service_figures(service)
    assert (again.windows, again.daily, again.trend) == (
        expected.windows, expected.daily, expected.trend)


def test_checks_made_after_the_evaluation_change_neither_stored_nor_computed_figures(
        page_services):
    # Availability over the 90 days as of the evaluation: a check made since (they run every
    # 5 minutes, with no evaluation) is not counted by either way of working it out.
    status_refresh(now=NOW)
    online = page_services[7]
    before = service_figures(online)
    assert before.windows[1]["availability"] is not None
    db.session.add(AvailabilityCheck(service_id=online.id, checked_at=NOW + timedelta(hours=1),
                                     ok=False, status_code=500, elapsed_ms=40,
                                     error="HTTP 500"))
    db.session.commit()
    db.session.expire_all()
    after = service_figures(online)
    windows, _daily, _trend = _computed_figures(online, after.status, True, after.as_of,
                                                latest_move(online.work_mode_history))
    assert after.windows == windows == before.windows
