"""WFA impact at province scale: the figures read each service's days only where its windows
need them, in spans of overlapping windows, and still equal a recomputation from the requests."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.models import Service
from portal.services.metrics.figures import histogram_from_totals, histogram_totals
from portal.services.metrics.wfa_impact import _histogram_of, wfa_figures
from tests.accountability_support import move
from tests.factories import create_department
from tests.services.metrics.test_wfa_impact import NOW, S, _raw_figures
from tests.wfa_support import create_due_service, report_due

# A year before S: its windows (4 June … 30 November 2024) end long before S's begin.
EARLY = date(2024, 9, 2)
# An on-site service leaves on this day: on-site throughout EARLY's windows, not S's; its own
# windows (17 October 2024 … 14 April 2025) overlap EARLY's.
LEAVES = date(2025, 1, 15)


@pytest.fixture(autouse=True)
def _app(app):
    return app


def _report_around(service, change: date, on_time: int, late: int) -> None:
    """Report requests due on three days of each window around a change date."""
    for offset in (-80, -40, -5, 0, 40, 85):
        report_due(service, change + timedelta(days=offset), on_time=on_time, late=late,
                   now=NOW)


def test_moves_a_year_apart_compare_with_the_services_on_site_over_their_own_weeks():
    department = create_department()
    early = create_due_service(department=department)
    move(early, "wfa", EARLY)
    later = create_due_service(department=department)
    move(later, "hybrid", S)
    leaving = create_due_service(department=department)
    move(leaving, "hybrid", LEAVES)
    stays = create_due_service(department=department)
    services = [early, later, leaving, stays]
    for service in services:
        report_due(service, date(2024, 5, 1), on_time=1, now=NOW)  # reporting starts
    _report_around(early, EARLY, on_time=8, late=4)
    _report_around(later, S, on_time=6, late=6)
    _report_around(leaving, LEAVES, on_time=9, late=2)
    for change in (EARLY, S):
        _report_around(stays, change, on_time=10, late=3)
        _report_around(leaving, change, on_time=7, late=1)
    # Between the two spans and after S's windows: days no window reads.
    for service in services:
        report_due(service, date(2025, 5, 20), late=40, now=NOW)
        report_due(service, S + timedelta(days=100), late=40, now=NOW)
    ids = [s.id for s in Service.query.all()]
    groups = {department.id: (department.id, ids), "province": (None, ids)}

    figures = wfa_figures(groups, now=NOW)

    impacts, pooled = _raw_figures(groups, NOW)
    assert figures.impacts == impacts
    assert figures.pooled == pooled
    groups_of = {i.service_code: i.comparison for i in figures.impacts.values()}
    # Around EARLY the services that left later were still on-site; around S one had left.
    assert groups_of[early.code].services == tuple(sorted([later.code, leaving.code,
                                                           stays.code]))
    assert groups_of[later.code].services == (stays.code,)
    assert figures.impacts[early.id].before.due == 3 * 12


@pytest.mark.parametrize("texts", [
    pytest.param(['{"3600":2,"14400":1}', '{"3600":1,"-7":4}'], id="plain"),
    pytest.param(['{"01":2}', '{"1":3}'], id="key-not-written-plainly"),
    pytest.param(['{" 5":1}', '{"5":2}'], id="key-with-a-space"),
    pytest.param(['{"5":1.5}', '{"5":2}'], id="count-not-whole"),
    pytest.param([], id="nothing-stored"),
])
def test_stored_histograms_add_up_as_their_counts_do(texts):
    assert _histogram_of(texts) == histogram_from_totals(histogram_totals(texts))
