"""Open311's requests: published feedback only, under public ids, filtered as the spec says."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from portal.domain.calendar import WIB
from portal.services.errors import NotFound, ValidationError
from portal.services.feedback.handling import feedback_status_set
from portal.services.open311.listing import (
    RequestQuery,
    open311_request,
    open311_request_query,
    open311_requests,
    public_id,
    public_id_parse,
)
from tests.factories import create_service
from tests.services.open311.world import (
    PUBLIC_BODY,
    PUBLIC_SUBJECT,
    file_feedback,
    publish,
    triage_user,
)

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
AUGUST_2025 = {"start_date": "2025-08-01", "end_date": "2025-08-31T23:59:59+07:00"}


def _at(day: int, hour: int = 10) -> datetime:
    return datetime(2025, 8, day, hour, 0, tzinfo=WIB)


@dataclass(frozen=True)
class World:
    """Four feedback of August 2025: three published (one resolved), one private."""

    samsat: Any
    dishub: Any
    early: Any
    late: Any
    resolved: Any
    private: Any


@pytest.fixture
def world(app):
    samsat = create_service(code="samsat-pkb", name_en="Vehicle tax")
    dishub = create_service(code="dishub-kir", name_en="Vehicle inspection")
    staff = triage_user()
    early = publish(file_feedback(samsat, _at(4)), staff, _at(4), answer="Kami periksa.")
    late = publish(file_feedback(dishub, _at(20)), staff, _at(20))
    resolved = publish(file_feedback(samsat, _at(12)), staff, _at(12))
    feedback_status_set(staff, resolved.id, "resolved", now=_at(13))
    private = file_feedback(samsat, _at(15))
    return World(samsat, dishub, early, late, resolved, private)


def _ids(query: RequestQuery) -> list[str]:
    return [record.service_request_id for record in open311_requests(query, "id", NOW)]


@pytest.mark.parametrize("text, number", [
    ("P12", 12), ("p12", 12), (" P7 ", 7), ("P0", None), ("P", None), ("12", None),
    ("P12a", None), ("K7QM-3TXV-9PHD", None), ("", None),
])
def test_a_public_id_is_p_and_a_number(text, number):
    assert public_id_parse(text) == number
    if number is not None:
        assert public_id(number) == f"P{number}"


def test_by_default_the_last_90_days_are_searched():
    query = open311_request_query({}, NOW)
    assert (query.start, query.end) == (datetime(2025, 12, 31, 12, 0, tzinfo=UTC), NOW)


def test_a_start_alone_searches_the_90_days_after_it_a_date_being_wib_midnight():
    query = open311_request_query({"start_date": "2025-08-01"}, NOW)
    assert query.start == datetime(2025, 7, 31, 17, 0, tzinfo=UTC)
    assert query.end == datetime(2025, 10, 29, 17, 0, tzinfo=UTC)


def test_an_end_alone_searches_the_90_days_before_it():
    query = open311_request_query({"end_date": "2025-11-01T00:00:00Z"}, NOW)
    assert query.start == datetime(2025, 8, 3, 0, 0, tzinfo=UTC)


def test_a_time_without_a_zone_is_wib():
    query = open311_request_query({"start_date": "2025-08-01T08:00:00"}, NOW)
    assert query.start == datetime(2025, 8, 1, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize("params, field", [
    ({"start_date": "kemarin"}, "start_date"),
    ({"end_date": "2025-13-01"}, "end_date"),
    ({"start_date": "2025-08-10", "end_date": "2025-08-01"}, "end_date"),
    ({"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-04-01T00:00:01Z"}, "end_date"),
    ({"status": "open,pending"}, "status"),
    ({"start_date": "9999-12-31"}, "start_date"),  # 90 days later is past the calendar's end
    ({"end_date": "0001-01-02"}, "end_date"),
])
def test_bad_filters_are_refused_naming_the_field(params, field):
    with pytest.raises(ValidationError) as raised:
        open311_request_query(params, NOW)
    assert [e.field for e in raised.value.errors] == [field]


def test_exactly_90_days_apart_is_allowed():
    query = open311_request_query(
        {"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-04-01T00:00:00Z"}, NOW)
    assert query.end - query.start == timedelta(days=90)


def test_only_published_feedback_is_listed_most_recently_filed_first(world):
    query = open311_request_query(AUGUST_2025, NOW)
    assert _ids(query) == [public_id(world.late.id), public_id(world.resolved.id),
                           public_id(world.early.id)]


def test_the_view_is_the_public_one_without_tracking_code_or_regency(world):
    query = open311_request_query({**AUGUST_2025, "service_code": "dishub-kir"}, NOW)
    [record] = open311_requests(query, "en", NOW)
    assert record.view["subject"] == PUBLIC_SUBJECT and record.view["body"] == PUBLIC_BODY
    assert "tracking_code" not in record.view and "regency" not in record.view
    assert record.regency is None and not record.by_tracking_code


@pytest.mark.parametrize("params, expected", [
    ({"service_code": "samsat-pkb"}, ["resolved", "early"]),
    ({"service_code": "dishub-kir, samsat-pkb"}, ["late", "resolved", "early"]),
    ({"service_code": "nothing"}, []),
    ({"status": "closed"}, ["resolved"]),
    ({"status": "open"}, ["late", "early"]),
    ({"status": "open,closed"}, ["late", "resolved", "early"]),
    ({"start_date": "2025-08-10", "end_date": "2025-08-15"}, ["resolved"]),
])
def test_filters(world, params, expected):
    query = open311_request_query({**AUGUST_2025, **params}, NOW)
    assert _ids(query) == [public_id(getattr(world, name).id) for name in expected]


def test_ids_override_every_other_filter_and_never_reach_private_feedback(world):
    wanted = ",".join([public_id(world.early.id), public_id(world.private.id),
                       world.private.tracking_code, "junk"])
    query = open311_request_query(
        {"service_request_id": wanted, "status": "closed", "start_date": "2020-01-01"}, NOW)
    assert _ids(query) == [public_id(world.early.id)]


def test_outside_the_default_window_nothing_is_listed(world):
    assert _ids(open311_request_query({}, NOW)) == []


def test_one_request_by_public_id_only_if_published(world):
    record = open311_request(public_id(world.early.id).lower(), "id", NOW)
    assert record.service_request_id == public_id(world.early.id)
    assert record.view["subject"] == PUBLIC_SUBJECT
    with pytest.raises(NotFound):
        open311_request(public_id(world.private.id), "id", NOW)


def test_the_holder_of_a_tracking_code_sees_the_tracking_pages_view(world):
    code = world.private.tracking_code
    typed = f"{code[:4].lower()} {code[4:8]}-{code[8:]}"
    record = open311_request(typed, "id", NOW)
    assert record.by_tracking_code
    assert record.service_request_id == world.private.tracking_code_display
    assert record.regency == "kapuas"
    # Not published: the holder of the code sees their own text, nobody else does.
    # (de-identified: a code may be shared or leaked).
    assert record.view["subject"] == "Antrean panjang — […]"
    assert "Siti" not in record.view["body"]
    assert record.view["published_subject"] is None


@pytest.mark.parametrize("identifier", ["nothing", "P999999", "K7QM3TXV9PHD"])
def test_anything_else_is_not_found(world, identifier):
    with pytest.raises(NotFound):
        open311_request(identifier, "id", NOW)
