"""Stored accountability figures: equal to the live computation, served without the history."""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event, update

from portal.domain.calendar import utc_now, wib_date
from portal.extensions import db
from portal.models import AccountabilitySnapshot
from portal.services.accountability.snapshots import snapshot_newest
from portal.services.accountability.tables import (
    accountability_department,
    accountability_refresh,
    accountability_table,
)
from portal.services.auth import CLI_OPERATOR
from portal.services.metrics.tokens import token_create
from tests.accountability_support import create_feedback, move
from tests.factories import create_department
from tests.wfa_support import create_due_service, report_due, requests_due

PERIODS = (30, 90, 365)


@pytest.fixture
def stored(app) -> Iterator[None]:
    """Serve the stored figures (the test configuration computes every visit)."""
    app.config["PORTAL_ACCOUNTABILITY_SNAPSHOTS"] = True
    yield
    app.config["PORTAL_ACCOUNTABILITY_SNAPSHOTS"] = False


@pytest.fixture
def province(app):
    """Two departments, one moved service with a comparison group, requests over a year."""
    today = wib_date(utc_now())
    moved_on = today - timedelta(days=60)
    a = create_department(code="dinas-a", name_id="Dinas A", name_en="Office A")
    b = create_department(code="dinas-b", name_id="Dinas B")
    a1 = create_due_service(department=a, code="a1", work_mode="onsite")
    a2 = create_due_service(department=a, code="a2", work_mode="onsite")
    b1 = create_due_service(department=b, code="b1", work_mode="onsite")
    move(a2, "wfa", moved_on)
    for offset, (on_time, late, open_) in enumerate(
            [(9, 1, 0), (5, 15, 2), (40, 3, 1), (12, 0, 0), (30, 20, 0), (3, 3, 3)]):
        day = today - timedelta(days=20 + 55 * offset)
        for service in (a1, a2, b1):
            report_due(service, day, on_time=on_time + service.id, late=late, open_=open_)
    create_feedback(service=a1)
    return a, b, a1, a2, b1


def _card_figures(card) -> dict:
    """What a scorecard shows, as plain data (the stored one names detached rows)."""
    return {
        "scorecard": card.scorecard.as_json("en"),
        "period": (card.from_date, card.to_date, card.generated_at, card.data_as_of),
        "services": [
            (row.service.code, row.requests.completed, row.requests.due, row.requests.on_time,
             row.requests.median_completion_hours, row.status.status, row.ikm.as_json(),
             None if row.wfa is None else row.wfa.as_json())
            for row in card.services
        ],
        "history": [
            (entry.service.code, entry.kind, entry.effective_from, entry.recorded_by,
             entry.before if entry.kind == "work_mode" else None,
             entry.after if entry.kind == "work_mode" else entry.after.commitment_value)
            for entry in card.history
        ],
    }


def test_stored_figures_equal_the_live_computation_for_every_standard_period(
        province, stored):
    now = utc_now()
    today = wib_date(now)
    assert accountability_refresh(now) == len(PERIODS) * 3  # the table and 2 scorecards each
    for days in PERIODS:
        start = today - timedelta(days=days - 1)
        table = accountability_table(start, today)
        assert table.generated_at == now  # the stored one, as of its refresh
        live = accountability_table(start, today, now=now)
        for lang in ("id", "en"):
            assert table.as_json(lang) == live.as_json(lang)
        for code in ("dinas-a", "dinas-b"):
            assert _card_figures(accountability_department(code, start, today)) == \
                _card_figures(accountability_department(code, start, today, now=now))


def test_the_stored_figures_hold_the_wfa_impact_and_the_comparison_group(province, stored):
    accountability_refresh()
    today = wib_date(utc_now())
    table = accountability_table(today - timedelta(days=89), today)
    (row_a,) = [row for row in table.departments if row.department.code == "dinas-a"]
    assert row_a.wfa is not None and row_a.wfa.services_moved == 1
    card = accountability_department("dinas-a", today - timedelta(days=89), today)
    (a2,) = [row for row in card.services if row.service.code == "a2"]
    assert a2.wfa is not None and a2.wfa.change_date == today - timedelta(days=60)
    assert a2.wfa.before.due > 0 and a2.wfa.after.due > 0


def _statements(app) -> list[str]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    return seen, lambda: event.remove(db.engine, "before_cursor_execute", record)


def test_reading_a_stored_period_touches_no_request_and_no_daily_row(app, province, stored):
    accountability_refresh()
    today = wib_date(utc_now())
    seen, stop = _statements(app)
    try:
        for days in PERIODS:
            accountability_table(today - timedelta(days=days - 1), today).as_json()
            accountability_department("dinas-a", today - timedelta(days=days - 1), today)
    finally:
        stop()
    assert len(seen) == 2 * len(PERIODS)
    assert all("accountability_snapshot" in s and "service_request" not in s
               and "service_day" not in s for s in seen)


def test_a_custom_period_is_computed_and_not_stored(app, province, stored):
    accountability_refresh()
    today = wib_date(utc_now())
    before = db.session.query(AccountabilitySnapshot).count()
    table = accountability_table(today - timedelta(days=44), today - timedelta(days=5))
    assert table.generated_at > snapshot_newest()
    assert db.session.query(AccountabilitySnapshot).count() == before


def test_a_standard_period_without_stored_figures_is_computed_and_not_stored(
        app, province, stored):
    # After a deployment (new code, no snapshot of its own) until the next refresh: a visit
    # computes the figures and writes nothing; any replica can serve it.
    now = utc_now()
    today = wib_date(now)
    start = today - timedelta(days=89)
    table = accountability_table(start, today)
    card = accountability_department("dinas-b", start, today)
    assert db.session.query(AccountabilitySnapshot).count() == 0
    db.session.rollback()
    assert db.session.query(AccountabilitySnapshot).count() == 0
    assert accountability_table(start, today).generated_at > table.generated_at  # again
    # What the visit computed is what the refresh stores.
    accountability_refresh(now)
    stored_table = accountability_table(start, today).as_json("en")
    assert {**table.as_json("en"), "generated_at": None} == {**stored_table, "generated_at": None}
    stored_card = _card_figures(accountability_department("dinas-b", start, today))
    assert {**_card_figures(card), "period": None} == {**stored_card, "period": None}


def test_the_pages_without_stored_figures_show_the_figures_a_refresh_stores(
        client, province, stored):
    live = client.get("/api/v1/accountability?lang=en").get_json()
    pages = [client.get(path) for path in (
        "/id/accountability", "/en/accountability/departments/dinas-a",
        "/en/accountability/departments/dinas-a/report")]
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert db.session.query(AccountabilitySnapshot).count() == 0
    accountability_refresh()
    assert db.session.query(AccountabilitySnapshot).count() == len(PERIODS) * 3
    refreshed = client.get("/api/v1/accountability?lang=en").get_json()
    assert refreshed["generated_at"] >= live["generated_at"]
    assert {**live, "generated_at": None} == {**refreshed, "generated_at": None}
    assert live["province"]["due"] > 0 and live["province"]["on_time"] > 0


def test_figures_stored_by_other_code_or_for_another_day_are_not_served(
        app, province, stored):
    today = wib_date(utc_now())
    start = today - timedelta(days=89)
    accountability_refresh()
    refreshed = accountability_table(start, today).generated_at
    db.session.execute(update(AccountabilitySnapshot).values(code_version="0" * 16))
    db.session.commit()
    assert accountability_table(start, today).generated_at > refreshed  # computed again
    # Yesterday's 90 days are another period: a snapshot for them is not today's.
    db.session.execute(update(AccountabilitySnapshot).values(
        from_date=start - timedelta(days=1), to_date=today - timedelta(days=1)))
    db.session.commit()
    again = accountability_table(start, today)
    assert (again.from_date, again.to_date) == (start, today)


def test_a_worker_shows_the_figures_another_process_stored_after_it_read_them(
        app, province, stored):
    # A worker keeps the figures it read last; when a job (another process) stores newer
    # ones, its next visit shows them, not the figures it kept.
    now = utc_now()
    today = wib_date(now)
    start = today - timedelta(days=89)
    accountability_refresh(now)
    first = accountability_table(start, today)
    assert accountability_table(start, today) is first  # the kept figures, not read again
    later = now + timedelta(minutes=10)
    newer = dataclasses.replace(first, generated_at=later, departments=first.departments[:1])
    # Written straight into the table: this process does not see the store happen.
    db.session.execute(update(AccountabilitySnapshot)
                       .where(AccountabilitySnapshot.key == "table:90")
                       .values(body=pickle.dumps(newer), computed_at=later))
    db.session.commit()
    table = accountability_table(start, today)
    assert table.generated_at == later
    assert [row.department.code for row in table.departments] == ["dinas-a"]
    assert len(first.departments) == 2


def test_the_stored_figures_render_the_pages_and_every_download(client, province, stored):
    accountability_refresh()
    for path in ("/id/accountability", "/en/accountability?period=365",
                 "/id/accountability/departments/dinas-a",
                 "/en/accountability/departments/dinas-a/report?period=30",
                 "/api/v1/accountability", "/api/v1/accountability.csv",
                 "/api/v1/accountability.xlsx"):
        response = client.get(path)
        assert response.status_code == 200, path
    page = client.get("/id/accountability").get_data(as_text=True)
    assert "Dinas A" in page and "Dinas B" in page
    body = client.get("/api/v1/accountability?lang=en").get_json()
    assert [row["name"] for row in body["departments"]][0] == "Office A"


def test_a_report_through_the_api_refreshes_the_stored_figures(app, client, province, stored):
    app.config["PORTAL_ACCOUNTABILITY_REFRESH_SECONDS"] = 0
    a1 = province[2]
    _row, token = token_create("dinas-a", "test", actor=CLI_OPERATOR)
    today = wib_date(utc_now())
    start = today - timedelta(days=89)
    accountability_refresh()
    due_before = accountability_table(start, today).province.requests.due
    try:
        response = client.post(
            "/api/v1/service-requests",
            json={"requests": requests_due(a1, today - timedelta(days=3), on_time=7)},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        response.close()  # the server closes the response once sent: then the refresh runs
    finally:
        app.config["PORTAL_ACCOUNTABILITY_REFRESH_SECONDS"] = 300
    db.session.rollback()
    assert accountability_table(start, today).province.requests.due == due_before + 7


def test_the_status_refresh_job_stores_the_figures(app, runner, province, stored):
    result = runner.invoke(args=["status", "refresh"])
    assert result.exit_code == 0, result.output
    assert "accountability figures stored: 9" in result.output
    assert snapshot_newest() is not None
