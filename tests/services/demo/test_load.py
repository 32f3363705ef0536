"""The demo as ``flask --app wsgi demo load`` leaves it: a year of history that means something.

The demo is loaded once for the module, into a database of its own, as of now: every figure
below is read through the services the pages use (WFA impact, status, metrics).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.domain.calendar import due_date, utc_now, wib_date
from portal.extensions import db
from portal.models import ServiceReport, ServiceRequest
from portal.models.catalogue import Service
from portal.services.demo.history import (
    LATE_JOINERS,
    NEVER_CLOSED_SERVICE,
    SILENT_DAYS,
    SILENT_SERVICE,
    SPARSE_SERVICES,
    WFA_DECLINE,
    WFA_EXPLAINED_AWAY,
    WFA_IMPROVEMENT,
    WFA_NO_CHANGE,
)
from portal.services.demo.load import demo_load
from portal.services.metrics.figures import metrics_for_service, reporting_starts
from portal.services.metrics.status import status_for_services
from portal.services.metrics.wfa_impact import wfa_impacts
from tests.conftest import fresh_database_url, make_test_config


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory):
    """An app whose database holds the demo, loaded once (it takes seconds)."""
    url = fresh_database_url("demo_load", tmp_path_factory.mktemp("demo"))
    app = create_app(make_test_config(SQLALCHEMY_DATABASE_URI=url))
    with app.app_context():
        db.create_all()
        demo_load()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def services(demo_app) -> dict[str, Service]:
    """The demo's services by code, inside the demo app's context."""
    with demo_app.app_context():
        yield {s.code: s for s in db.session.scalars(select(Service))}
        db.session.rollback()


def _moves(services: dict[str, Service]) -> dict[str, date]:
    """Each service that moved to WFA or hybrid work, with the date of its move."""
    return {code: s.work_mode_since for code, s in services.items()
            if s.work_mode in ("wfa", "hybrid") and s.work_mode_since is not None}


def test_history_covers_a_year_and_90_days_before_every_move(services):
    today = wib_date(utc_now())
    starts = reporting_starts(s.id for s in services.values())
    earliest = min(starts.values())
    moves = _moves(services)
    assert len(moves) >= 30
    assert earliest <= today - timedelta(days=364)
    for code, since in moves.items():
        assert earliest <= since - timedelta(days=90), code
        joined = LATE_JOINERS.get(services[code].department.code)
        # Each service reports from before its before window, unless its department joined
        # the portal later (on purpose: partial_history).
        if joined:
            assert starts[services[code].id] == joined > since - timedelta(days=90), code
        else:
            assert starts[services[code].id] <= since - timedelta(days=90), code
    # The history ends now: nothing received after now, and requests of the last two days.
    latest = db.session.scalar(select(func.max(ServiceRequest.received_at)))
    assert utc_now() - timedelta(days=2) < latest <= utc_now()


def test_each_wfa_verdict_is_shown_by_the_service_drawn_to_show_it(services):
    impacts = {impact.service_code: impact
               for impact in wfa_impacts(services.values()).values()}

    decline = impacts[WFA_DECLINE]
    assert (decline.verdict, decline.adjusted_verdict) == ("decline", "decline")
    assert decline.ci_high < 0
    # Its department's on-site service, over the same weeks, did not get slower.
    assert decline.comparison.scope == "department"
    assert decline.comparison.services == ("dinkes-uji-kualitas-air",)
    assert decline.comparison.ci_low < 0 < decline.comparison.ci_high

    improvement = impacts[WFA_IMPROVEMENT]
    assert (improvement.verdict, improvement.adjusted_verdict) == ("improvement", "improvement")
    assert improvement.ci_low > 0
    assert improvement.comparison.services == (
        "disdik-legalisasi-ijazah", "disdik-mutasi-peserta-didik", "disdik-pengganti-ijazah")

    level = impacts[WFA_NO_CHANGE]
    assert level.verdict == "no_significant_change"
    assert level.ci_low < 0 < level.ci_high

    explained = impacts[WFA_EXPLAINED_AWAY]
    assert explained.verdict == "decline"
    assert explained.adjusted_verdict == "no_significant_change"
    # Bapenda's on-site Samsat services got slower over the same weeks too.
    assert explained.comparison.scope == "department"
    assert explained.comparison.services == ("samsat-balik-nama", "samsat-stnk-lima-tahunan")
    assert explained.comparison.ci_high < 0
    assert explained.net_ci_low < 0 < explained.net_ci_high

    joined = [code for code, s in services.items() if s.department.code in LATE_JOINERS
              and code in impacts]
    assert joined
    for code in joined:
        impact = impacts[code]
        assert (impact.verdict, impact.verdict_reason) == ("not_enough_data", "partial_history")
        assert impact.reporting_since > impact.change_date - timedelta(days=90)
        # Enough requests on both sides: only the missing start of the history stops a verdict.
        assert impact.before.due >= 30 and impact.after.due >= 30
        assert impact.difference is None and impact.adjusted_verdict == "not_enough_data"

    # Every other service behaves the same before and after its move, and shows no change.
    showcases = {WFA_DECLINE, WFA_IMPROVEMENT, WFA_EXPLAINED_AWAY, *joined}
    others = {code: impact.verdict for code, impact in impacts.items()
              if code not in showcases and code not in SPARSE_SERVICES}
    assert len(others) >= 30
    assert set(others.values()) == {"no_significant_change"}


def test_never_closed_requests_stay_late_and_open_and_pull_the_status_down(services):
    now = utc_now()
    today = wib_date(now)
    service = services[NEVER_CLOSED_SERVICE]
    view = status_for_services([service.id], now=now)[service.id]
    assert view.status in {"at_risk", "breaching"}
    last_30 = metrics_for_service(service, today - timedelta(days=29), today, now=now)
    assert last_30.on_time_rate < service.on_time_target
    assert last_30.late_open >= 5
    assert view.reason_params["late_open"] >= 5  # its reason says so
    # Had it closed its open requests on time, it would meet its commitment: they are why.
    assert (last_30.on_time + last_30.late_open) / last_30.due >= service.on_time_target

    # A request received half a year ago is still open, and still late in its own window.
    old = db.session.scalars(
        select(ServiceRequest)
        .where(ServiceRequest.service_id == service.id, ServiceRequest.completed_at.is_(None),
               ServiceRequest.received_at < now - timedelta(days=180))
        .order_by(ServiceRequest.received_at)
    ).first()
    assert old is not None
    day = due_date(old.completion_deadline)
    that_day = metrics_for_service(service, day, day, now=now)
    assert that_day.late_open >= 1
    assert that_day.late >= that_day.late_open

    # Other services leave some requests open too, long after their deadline.
    month_ago = now - timedelta(days=30)
    leaving_open = db.session.scalar(
        select(func.count(func.distinct(ServiceRequest.service_id))).where(
            ServiceRequest.completed_at.is_(None),
            ServiceRequest.completion_deadline < month_ago,
            ServiceRequest.service_id != service.id,
        ))
    assert leaving_open >= 10


def test_only_the_silent_service_shows_no_data_since_its_last_report(services):
    now = utc_now()
    views = status_for_services([s.id for s in services.values()], now=now)
    silent = services[SILENT_SERVICE]
    assert {code for code, s in services.items() if views[s.id].status == "no_data"} == {
        SILENT_SERVICE}
    last = db.session.get(ServiceReport, silent.id).last_reported_at
    assert timedelta(days=SILENT_DAYS) <= now - last < timedelta(days=SILENT_DAYS, hours=1)
    assert views[silent.id].reason_params["since"] == wib_date(last).isoformat()
    for code in SPARSE_SERVICES:
        assert views[services[code].id].status == "insufficient_data", code
