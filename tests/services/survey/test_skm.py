"""Satisfaction survey: answers, de-duplication, the IKM and its grade boundaries."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from flask_babel import force_locale

from portal.domain.calendar import UTC, WIB
from portal.extensions import db
from portal.models import SurveyResponse
from portal.services.errors import NotFound, ValidationError
from portal.services.survey.skm import (
    ikm_by,
    ikm_for,
    ikm_from_sums,
    ikm_grade,
    ikm_round,
    survey_submit,
    survey_visit_issue,
    survey_visit_read,
)
from tests.accountability_support import answers_with_total, create_feedback
from tests.factories import create_department, create_service

ALL_THREE = {f"u{i}": 3 for i in range(1, 10)}
DAY = date(2025, 10, 1)
NOON = datetime(2025, 10, 1, 12, 0, tzinfo=WIB)


@pytest.fixture(autouse=True)
def _app(app):
    return app


_tokens = itertools.count(1)


def _add(service, answers, when=NOON):
    for answer in answers:
        db.session.add(SurveyResponse(service_id=service.id, visit_token=f"t-{next(_tokens)}",
                                      submitted_at=when, **answer))
    db.session.commit()


@pytest.mark.parametrize(
    ("ikm", "grade"),
    [
        ("100.00", "A"), ("88.31", "A"), ("88.30", "B"), ("76.61", "B"), ("76.60", "C"),
        ("65.00", "C"), ("64.99", "D"), ("25.00", "D"),
    ],
)
def test_grade_boundaries(ikm, grade):
    assert ikm_grade(Decimal(ikm)) == grade


def test_rounding_is_half_up_to_two_decimals():
    assert ikm_round(Fraction(883075, 10000)) == Decimal("88.31")
    assert ikm_round(Fraction(883049, 10000)) == Decimal("88.30")


@pytest.mark.parametrize(
    ("responses", "total", "ikm", "grade"),
    [
        # 25 × 1049 / (9 × 33) = 88.2997 -> 88.30 -> B.
        pytest.param(33, 1049, "88.30", "B", id="88.2997-is-B"),
        # 25 × 1208 / (9 × 38) = 88.3041 -> 88.30 -> B.
        pytest.param(38, 1208, "88.30", "B", id="88.3041-is-B"),
        # 25 × 1367 / (9 × 43) = 88.3075 -> 88.31 -> A: the grade follows the rounded figure.
        pytest.param(43, 1367, "88.31", "A", id="88.3075-is-A"),
        # 25 × 1526 / (9 × 48) = 88.3102 -> 88.31 -> A.
        pytest.param(48, 1526, "88.31", "A", id="88.3102-is-A"),
        # 25 × 702 / (9 × 30) = 65 exactly -> C; 25 × 889 / (9 × 38) = 64.9854 -> 64.99 -> D.
        pytest.param(30, 702, "65.00", "C", id="65-is-C"),
        pytest.param(38, 889, "64.99", "D", id="64.99-is-D"),
        pytest.param(30, 270, "25.00", "D", id="all-ones"),
        pytest.param(30, 1080, "100.00", "A", id="all-fours"),
    ],
)
def test_ikm_oracle_from_stored_answers(responses, total, ikm, grade):
    service = create_service()
    _add(service, answers_with_total(responses, total))
    result = ikm_for([service], DAY, DAY)
    assert result.responses == responses
    assert result.ikm == Decimal(ikm)
    assert result.grade == grade


def test_element_means_and_ikm_by_hand():
    # 30 answers: 15 score every element 4, 15 score u1 1 and the rest 3.
    service = create_service()
    high = {f"u{i}": 4 for i in range(1, 10)}
    low = {**ALL_THREE, "u1": 1}
    _add(service, [high] * 15 + [low] * 15)
    result = ikm_for([service], DAY, DAY)
    assert result.element_means["u1"] == 2.5
    assert result.element_means["u2"] == 3.5
    # Means: 2.5 once and 3.5 eight times: 25 × (2.5 + 28) / 9 = 84.7222 -> 84.72, B.
    assert (result.ikm, result.grade) == (Decimal("84.72"), "B")


def test_29_responses_give_no_ikm_and_30_do():
    service = create_service()
    _add(service, [ALL_THREE] * 29)
    result = ikm_for([service], DAY, DAY)
    assert (result.responses, result.ikm, result.grade) == (29, None, None)
    assert result.element_means["u1"] == 3.0
    _add(service, [ALL_THREE], when=NOON.replace(hour=13))
    result = ikm_for([service], DAY, DAY)
    assert (result.responses, result.ikm, result.grade) == (30, Decimal("75.00"), "C")


def test_period_is_wib_dates_inclusive():
    service = create_service()
    # 30 September 23:59 WIB is outside 1 October; 1 October 23:59 WIB is inside.
    _add(service, [ALL_THREE], when=datetime(2025, 9, 30, 16, 59, tzinfo=UTC))
    _add(service, [ALL_THREE] * 2, when=datetime(2025, 10, 1, 16, 59, tzinfo=UTC))
    assert ikm_for([service], DAY, DAY).responses == 2


def test_ikm_pools_services_by_group():
    department = create_department()
    a = create_service(department=department)
    b = create_service(department=department)
    _add(a, [{f"u{i}": 4 for i in range(1, 10)}] * 20)
    _add(b, [{f"u{i}": 2 for i in range(1, 10)}] * 10)
    result = ikm_by({"dept": [a.id, b.id], "a": [a.id]}, DAY, DAY)
    # 30 answers: element mean (20 × 4 + 10 × 2) / 30 = 10/3; IKM 25 × 10/3 = 83.33.
    assert (result["dept"].responses, result["dept"].ikm) == (30, Decimal("83.33"))
    assert result["a"].ikm is None


def test_ikm_from_no_responses():
    assert ikm_from_sums(0, {}).responses == 0


def _visit_error(token, *, code="ktp", now=None):
    """Submit with a visit token and return the refusal's (field, English message)."""
    with force_locale("en"), pytest.raises(ValidationError) as error:
        survey_submit(code, ALL_THREE, visit_token=token, now=now)
    return [(e.field, e.error) for e in error.value.errors]


EXPIRED = [("visit_token", "The form has expired. Please send it again.")]
ALREADY = [("visit_token", "This answer has already been received.")]


def test_submit_with_an_issued_visit_token_stores_its_nonce():
    service = create_service(code="ktp")
    token = survey_visit_issue("ktp")
    response = survey_submit("ktp", ALL_THREE, visit_token=token, lang="en")
    assert (response.service_id, response.u9, response.lang) == (service.id, 3, "en")
    # The signed token is not stored: its random nonce is (unique, 32 characters).
    assert response.visit_token == survey_visit_read("ktp", token)
    assert len(response.visit_token) == 32


def test_a_visit_token_gives_one_answer_only():
    create_service(code="ktp")
    token = survey_visit_issue("ktp")
    survey_submit("ktp", ALL_THREE, visit_token=token)
    assert _visit_error(token) == ALREADY
    assert db.session.query(SurveyResponse).count() == 1


def test_each_visit_gets_its_own_token():
    create_service(code="ktp")
    survey_submit("ktp", ALL_THREE, visit_token=survey_visit_issue("ktp"))
    survey_submit("ktp", ALL_THREE, visit_token=survey_visit_issue("ktp"))
    assert db.session.query(SurveyResponse).count() == 2


@pytest.mark.parametrize("token", [
    None, "", "short", "x" * 65, "bad token with spaces!!",
    # Well-formed random strings made by the client: what the old form accepted.
    "a" * 24, "Zm9yZ2VkLXRva2VuLW9mLTMyLWNoYXJz",
])
def test_client_made_visit_tokens_are_refused(token):
    create_service(code="ktp")
    assert _visit_error(token) == EXPIRED
    assert db.session.query(SurveyResponse).count() == 0


def test_a_visit_token_signed_with_another_key_is_refused(app):
    create_service(code="ktp")
    from itsdangerous import URLSafeTimedSerializer

    forged = URLSafeTimedSerializer("not-the-secret", salt="survey-visit").dumps(
        {"n": "n" * 32, "s": "ktp"})
    assert _visit_error(forged) == EXPIRED


def test_a_visit_token_with_an_altered_payload_is_refused():
    create_service(code="ktp")
    token = survey_visit_issue("ktp")
    payload, rest = token.split(".", 1)
    other_payload = survey_visit_issue("sim").split(".", 1)[0]
    assert other_payload != payload
    assert _visit_error(f"{other_payload}.{rest}") == EXPIRED


def test_a_visit_token_for_another_service_is_refused():
    create_service(code="ktp")
    create_service(code="sim")
    token = survey_visit_issue("sim")
    assert _visit_error(token, code="ktp") == EXPIRED
    # It still works for the service it was issued for.
    assert survey_submit("sim", ALL_THREE, visit_token=token).visit_token


def test_a_visit_token_is_good_for_two_days_exactly():
    create_service(code="ktp")
    issued = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
    late = survey_visit_issue("ktp", now=issued)
    assert _visit_error(late, now=issued + timedelta(days=2, seconds=1)) == EXPIRED
    on_time = survey_visit_issue("ktp", now=issued)
    response = survey_submit("ktp", ALL_THREE, visit_token=on_time,
                             now=issued + timedelta(days=2))
    assert response.submitted_at == issued + timedelta(days=2)


def test_an_expired_visit_token_is_refused_at_the_current_time():
    create_service(code="ktp")
    token = survey_visit_issue("ktp", now=datetime.now(UTC) - timedelta(days=3))
    assert _visit_error(token) == EXPIRED


def test_a_visit_token_from_the_future_is_refused():
    create_service(code="ktp")
    issued = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
    token = survey_visit_issue("ktp", now=issued)
    assert _visit_error(token, now=issued - timedelta(minutes=1)) == EXPIRED


@pytest.mark.parametrize("bad", [0, 5, "", None, "3.0", 2.5, "x", True])
def test_each_score_is_a_whole_number_from_1_to_4(bad):
    create_service(code="ktp")
    with pytest.raises(ValidationError) as error:
        survey_submit("ktp", {**ALL_THREE, "u4": bad}, visit_token=survey_visit_issue("ktp"))
    assert [e.field for e in error.value.errors] == ["u4"]


def test_submit_for_an_unknown_service_is_not_found():
    with pytest.raises(NotFound):
        survey_submit("nope", ALL_THREE, visit_token=survey_visit_issue("nope"))


def test_submit_after_resolved_feedback_once_per_feedback():
    service = create_service(code="ktp")
    feedback = create_feedback(service, status="resolved")
    response = survey_submit("ktp", ALL_THREE, feedback_code=feedback.tracking_code)
    assert (response.feedback_id, response.visit_token) == (feedback.id, None)
    with pytest.raises(ValidationError) as error:
        survey_submit("ktp", ALL_THREE, feedback_code=feedback.tracking_code)
    assert error.value.errors[0].field == "feedback"


@pytest.mark.parametrize("status", ["submitted", "routed", "in_progress", "rejected"])
def test_feedback_must_be_resolved_before_the_survey(status):
    service = create_service(code="ktp")
    feedback = create_feedback(service, status=status)
    with pytest.raises(ValidationError):
        survey_submit("ktp", ALL_THREE, feedback_code=feedback.tracking_code)


def test_feedback_about_another_service_cannot_rate_this_one():
    create_service(code="ktp")
    other = create_service(code="sim")
    feedback = create_feedback(other, status="closed")
    with pytest.raises(ValidationError):
        survey_submit("ktp", ALL_THREE, feedback_code=feedback.tracking_code)
