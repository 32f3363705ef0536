"""Feedback-handling figures per department, against hand-worked counts."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from portal.calendar import WIB
from portal.extensions import db
from portal.models import FeedbackEvent
from portal.services.feedback_figures import PROVINCE, feedback_figures
from tests.accountability_support import create_feedback
from tests.factories import create_department

FROM, TO = date(2025, 10, 1), date(2025, 10, 31)
NOW = datetime(2025, 11, 1, 9, 0, tzinfo=WIB)


def wib(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=WIB)


@pytest.fixture
def scene(app):  # noqa: ANN001, ANN201
    a, b = create_department(code="a"), create_department(code="b")
    # f1: answered after 48 h (on time), resolved on time, reopened once.
    create_feedback(department=a, submitted_at=wib(10, 2), routed_at=wib(10, 2),
                    first_response_at=wib(10, 4), first_response_due=wib(10, 9, 23, 59),
                    resolved_at=wib(10, 10), resolution_due=wib(10, 20), reopen_count=1,
                    status="resolved")
    # f2: answered after 240 h (late), resolved late.
    create_feedback(department=a, submitted_at=wib(10, 3), routed_at=wib(10, 3),
                    first_response_at=wib(10, 13), first_response_due=wib(10, 10),
                    resolved_at=wib(10, 25), resolution_due=wib(10, 23), status="closed")
    # f3: submitted and routed in September, answered late on 1 October 00:30 WIB (254.5 h).
    create_feedback(department=a, submitted_at=wib(9, 20), routed_at=wib(9, 20),
                    first_response_at=wib(10, 1, 0, 30), first_response_due=wib(9, 27),
                    status="in_progress", resolution_due=wib(12, 1))
    # f4: routed, no answer, first-response deadline passed: overdue now.
    create_feedback(department=a, submitted_at=wib(10, 5), routed_at=wib(10, 5),
                    first_response_due=wib(10, 12), resolution_due=wib(11, 20),
                    status="routed")
    # Still with the triage unit, routing deadline passed: the province's only.
    create_feedback(department=None, submitted_at=wib(10, 6), route_due=wib(10, 9),
                    status="submitted", routing_rule="triage")
    # A transfer away from a in October, one in September (outside).
    f5 = create_feedback(department=b, submitted_at=wib(9, 1), routed_at=wib(9, 1),
                         status="resolved", resolved_at=wib(9, 5), resolution_due=wib(9, 30))
    for when in (wib(10, 7), wib(9, 2)):
        db.session.add(FeedbackEvent(feedback_id=f5.id, kind="transferred", at=when,
                                     from_department_id=a.id, to_department_id=b.id))
    db.session.commit()
    return a, b


def test_department_figures_by_hand(scene):
    a, b = scene
    figures = feedback_figures([a.id, b.id], FROM, TO, now=NOW)
    assert figures[a.id].as_json() == {
        "submitted": 3,                            # f1, f2, f4 (f3 in September)
        "routed": 3,
        "first_response_on_time_rate": 0.3333,     # f1 of f1, f2, f3
        "median_days_to_first_response": 10.0,     # 48, 240, 254.5 h: rank 2 = 240 h
        "resolved_on_time_rate": 0.5,              # f1 of f1, f2
        "overdue_now": 1,                          # f4
        "transfers": 1,                            # October only
        "reopen_rate": 0.5,                        # f1 of f1, f2
    }
    assert figures[b.id].as_json() == {
        "submitted": 0, "routed": 0, "first_response_on_time_rate": None,
        "median_days_to_first_response": None, "resolved_on_time_rate": None,
        "overdue_now": 0, "transfers": 0, "reopen_rate": None,
    }


def test_province_adds_the_triage_unit_feedback(scene):
    a, b = scene
    province = feedback_figures([a.id, b.id], FROM, TO, now=NOW)[PROVINCE].as_json()
    assert province["submitted"] == 4
    assert province["overdue_now"] == 2
    assert province["transfers"] == 1


def test_a_department_without_feedback_gets_empty_figures(app):
    lone = create_department()
    assert feedback_figures([lone.id], FROM, TO, now=NOW)[lone.id].submitted == 0
