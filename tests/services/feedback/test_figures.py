"""Feedback-handling figures per department, from the real flows, against hand-worked counts.

Every feedback below is filed, routed, answered, transferred, resolved and reopened through
the services, exactly as the pages and the API do it; the figures are then worked out by
hand from the timeline. All times are WIB. Working days in the period: Monday to Friday
(no holiday in October 2025; Friday 5 September 2025 is Maulid Nabi).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from portal.domain.calendar import WIB
from portal.services.feedback.citizen import feedback_reopen, feedback_submit
from portal.services.feedback.figures import PROVINCE, feedback_figures
from portal.services.feedback.handling import (
    feedback_answer,
    feedback_investigation_set,
    feedback_route,
    feedback_status_set,
    feedback_transfer,
)
from tests.factories import create_department, create_service, create_user
from tests.feedback_support import create_triage_unit, valid_data

OCTOBER = (date(2025, 10, 1), date(2025, 10, 31))
SEPTEMBER = (date(2025, 9, 1), date(2025, 9, 30))
NOW = datetime(2025, 11, 5, 9, 0, tzinfo=WIB)


def wib(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=WIB)


@pytest.fixture
def scene(app):
    """Seven feedback handled by departments A and B; see each comment for its story."""
    create_triage_unit()
    a, b = create_department(code="dinas-a"), create_department(code="dinas-b")
    service_a, service_b = create_service(department=a), create_service(department=b)
    officer_a = create_user("officer", department=a)
    officer_b = create_user("officer", department=b)
    triage = create_user("triage")

    def submit(at: datetime, service=None):
        return feedback_submit(valid_data(service=service.code if service else None), "id",
                               now=at)

    # f1: routed to A Wed 1 Oct 10:00; A answers 2 h later (due end of Wed 8 Oct: on time);
    # A transfers it to B Mon 20 Oct; B answers Tue 21 Oct (24 h after it received it, due
    # end of Mon 27 Oct: on time); B resolves Wed 22 Oct, after the resolution deadline
    # (14 working days after 1 Oct: end of Tue 21 Oct): late, for B.
    f1 = submit(wib(10, 1), service_a)
    feedback_answer(officer_a, f1.id, "Kami periksa.", now=wib(10, 1, 12))
    feedback_transfer(officer_a, f1.id, b.code, "Urusan dinas B.", now=wib(10, 20))
    feedback_answer(officer_b, f1.id, "Kami tangani.", now=wib(10, 21))
    feedback_status_set(officer_b, f1.id, "resolved", now=wib(10, 22))

    # f2: routed to A Thu 2 Oct; answered Fri 10 Oct (192 h, due end of Thu 9 Oct: late);
    # resolved Mon 13 Oct (due end of Wed 22 Oct: on time), reopened Tue 14 Oct, resolved
    # again Thu 16 Oct (on time). Two resolutions, the first reopened.
    f2 = submit(wib(10, 2), service_a)
    feedback_answer(officer_a, f2.id, "Kami periksa.", now=wib(10, 10))
    feedback_status_set(officer_a, f2.id, "resolved", now=wib(10, 13))
    feedback_reopen(f2.tracking_code, "Belum beres.", now=wib(10, 14))
    feedback_status_set(officer_a, f2.id, "resolved", now=wib(10, 16))

    # f3: routed to A Fri 3 Oct; a bare status change at 11:00 is no first response;
    # resolved Mon 6 Oct without a word (on time), reopened Tue 7 Oct; answered Wed 8 Oct
    # (120 h, due end of Fri 10 Oct: on time). Open now and past its resolution deadline
    # (end of Thu 23 Oct): overdue.
    f3 = submit(wib(10, 3), service_a)
    feedback_status_set(officer_a, f3.id, "in_progress", now=wib(10, 3, 11))
    feedback_status_set(officer_a, f3.id, "resolved", now=wib(10, 6))
    feedback_reopen(f3.tracking_code, "Tidak ada jawaban.", now=wib(10, 7))
    feedback_answer(officer_a, f3.id, "Maaf, kami periksa.", now=wib(10, 8))

    # f4: filed Mon 29 Sep without a service, routed by hand to A Wed 1 Oct 09:00; marked as
    # needing investigation Mon 13 Oct 10:00, its first response (289 h, due end of Wed 8
    # Oct: late); resolved Fri 31 Oct: late against 14 working days (end of Tue 21 Oct), on
    # time against the 60 in force since 13 Oct.
    f4 = submit(wib(9, 29))
    feedback_route(triage, f4.id, a.code, now=wib(10, 1, 9))
    feedback_investigation_set(officer_a, f4.id, "Perlu cek lapangan.", now=wib(10, 13))
    feedback_status_set(officer_a, f4.id, "resolved", now=wib(10, 31))

    # f5: routed to A Thu 18 Sep, answered Fri 19 Sep (24 h: on time, a September figure);
    # resolved Thu 9 Oct, after its deadline then (14 working days: end of Wed 8 Oct): late;
    # reopened Fri 10 Oct; only then marked as needing investigation (60 working days from
    # 18 Sep) and resolved again Wed 15 Oct: on time. The later investigation does not make
    # the first resolution on time.
    f5 = submit(wib(9, 18), service_a)
    feedback_answer(officer_a, f5.id, "Kami periksa.", now=wib(9, 19))
    feedback_status_set(officer_a, f5.id, "resolved", now=wib(10, 9))
    feedback_reopen(f5.tracking_code, "Belum beres.", now=wib(10, 10))
    feedback_investigation_set(officer_a, f5.id, "Perlu audit.", now=wib(10, 13, 11))
    feedback_status_set(officer_a, f5.id, "resolved", now=wib(10, 15))

    # f6: routed to B Mon 1 Sep, transferred to A Tue 2 Sep, never answered: overdue now
    # (for A, which holds it); its transfer is a September figure of B.
    f6 = submit(wib(9, 1), service_b)
    feedback_transfer(officer_b, f6.id, a.code, "Urusan dinas A.", now=wib(9, 2))

    # f7: filed Thu 30 Oct without a service, still with the triage unit, past its routing
    # deadline (end of Tue 4 Nov): the province's only.
    submit(wib(10, 30))
    return a, b


def test_october_figures_of_each_department_by_hand(scene):
    a, b = scene
    figures = feedback_figures([a.id, b.id], *OCTOBER, now=NOW)
    assert figures[a.id].as_json() == {
        "submitted": 2,                            # f2, f3 (f1 is B's now)
        "routed": 4,                               # f1, f2, f3, f4 were routed to A
        "first_response_on_time_rate": 0.5,        # f1, f3 of f1, f2, f3, f4
        "median_days_to_first_response": 5.0,      # 2, 120, 192, 289 h: rank 2 = 120 h
        "resolved_on_time_rate": 0.8333,           # 5 of 6: f2 ×2, f3, f4, f5 ×2; f5's first late
        "overdue_now": 2,                          # f3, f6
        "transfers": 1,                            # f1 to B
        "reopen_rate": 0.5,                        # f2's, f3's, f5's first resolutions
    }
    assert figures[b.id].as_json() == {
        "submitted": 1,                            # f1
        "routed": 0,                               # a transfer is not a routing
        "first_response_on_time_rate": 1.0,        # f1, on B's own clock from 20 Oct
        "median_days_to_first_response": 1.0,      # 24 h
        "resolved_on_time_rate": 0.0,              # f1, late
        "overdue_now": 0,
        "transfers": 0,
        "reopen_rate": 0.0,
    }


def test_october_figures_of_the_province_pool_every_department_and_the_triage_unit(scene):
    province = feedback_figures([], *OCTOBER, now=NOW)[PROVINCE].as_json()
    assert province == {
        "submitted": 4,                            # f1, f2, f3, f7
        "routed": 4,
        "first_response_on_time_rate": 0.6,        # 3 of 5
        "median_days_to_first_response": 5.0,      # 2, 24, 120, 192, 289 h: rank 3
        "resolved_on_time_rate": 0.7143,           # 5 of 7
        "overdue_now": 3,                          # f3, f6, f7
        "transfers": 1,
        "reopen_rate": 0.4286,                     # 3 of 7
    }


def test_september_counts_each_step_for_the_department_that_held_it_then(scene):
    a, b = scene
    figures = feedback_figures([a.id, b.id], *SEPTEMBER, now=NOW)
    # f6 was routed to B and moved away by B in September, though A holds it now.
    assert (figures[b.id].routed, figures[b.id].transfers) == (1, 1)
    assert figures[b.id].first_responses == 0
    # f5: routed 18 Sep, answered 19 Sep (24 h, on time).
    assert (figures[a.id].routed, figures[a.id].first_responses,
            figures[a.id].first_responses_on_time) == (1, 1, 1)
    assert figures[a.id].median_days_to_first_response == 1.0
    assert figures[a.id].resolved == 0


def test_a_department_without_feedback_gets_empty_figures(app):
    lone = create_department()
    figures = feedback_figures([lone.id], *OCTOBER, now=NOW)[lone.id]
    assert (figures.submitted, figures.resolved, figures.reopen_rate) == (0, 0, None)
