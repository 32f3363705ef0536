"""The community satisfaction survey (SKM) and its index (IKM), per docs/definitions.md.

Nine elements, each scored 1–4. For a set of services and a period:

    element mean = sum of that element's scores / responses
    IKM = 25 × (mean of the nine element means)        (range 25–100)

The IKM is computed exactly (fractions) and rounded to 2 decimals, half up; the grade is
read from the ROUNDED value, so the published number and its grade always agree:
A 88.31–100 (very good), B 76.61–88.30 (good), C 65.00–76.60 (poor), D 25.00–64.99 (very
poor). E.g. an exact 88.3075 is published as 88.31 and graded A. Below 30 responses in the
period there is no IKM and no grade ("not enough responses").

Abuse protection: an answer needs either a resolved (or closed) feedback about the service,
answered at most once, or the visit token the server issued when it showed the form. That
token is signed (itsdangerous, salt "survey-visit") and carries a random nonce and the
service's code; it is accepted for VISIT_MAX_AGE, for that service only, and its nonce is
stored (unique) so one visit gives one answer. The form adds CSRF, a honeypot and a rate limit.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.models.catalogue import Service
from portal.models.feedback import Feedback
from portal.models.survey import (
    MAX_VISIT_TOKEN,
    SCORE_MAX,
    SCORE_MIN,
    SURVEY_ELEMENTS,
    SurveyResponse,
)
from portal.services.catalogue import directory as catalogue
from portal.services.errors import FieldError, ValidationError
from portal.services.feedback.citizen import feedback_get
from portal.services.metrics.figures import window_bounds

MIN_RESPONSES = 30
# (grade, lowest IKM of the grade, rounded to 2 decimals), best first.
GRADES = (("A", Decimal("88.31")), ("B", Decimal("76.61")), ("C", Decimal("65.00")),
          ("D", Decimal("25.00")))
# Feedback whose handling is over may be followed by a survey answer.
SURVEYABLE_FEEDBACK = ("resolved", "closed")
VISIT_TOKEN_RE = re.compile(rf"^[A-Za-z0-9_\-]{{16,{MAX_VISIT_TOKEN}}}$")
# A visit token is good this long after the form was shown (a citizen may come back later).
VISIT_MAX_AGE = timedelta(days=2)
VISIT_SALT = "survey-visit"

ELEMENT_LABELS = {
    "u1": _l("Requirements"),
    "u2": _l("Procedure"),
    "u3": _l("Time to complete"),
    "u4": _l("Cost"),
    "u5": _l("Product"),
    "u6": _l("Staff competence"),
    "u7": _l("Staff behaviour"),
    "u8": _l("Complaint handling"),
    "u9": _l("Facilities"),
}
ELEMENT_QUESTIONS = {
    "u1": _l("Were the requirements of the service clear and reasonable?"),
    "u2": _l("Was the procedure easy to follow?"),
    "u3": _l("Was the service completed in the promised time?"),
    "u4": _l("Was the cost as published (or free, as promised)?"),
    "u5": _l("Did you get the product the service promises?"),
    "u6": _l("Were the staff competent?"),
    "u7": _l("Were the staff polite and helpful?"),
    "u8": _l("Were complaints, suggestions and questions handled well?"),
    "u9": _l("Were the facilities (office, website, application) adequate?"),
}
SCORE_LABELS = {1: _l("Poor"), 2: _l("Fair"), 3: _l("Good"), 4: _l("Very good")}
GRADE_LABELS = {"A": _l("very good"), "B": _l("good"), "C": _l("poor"), "D": _l("very poor")}


@dataclass(frozen=True)
class IkmResult:
    """The satisfaction index of some services over a period."""

    responses: int
    element_means: dict[str, float | None]
    # None below MIN_RESPONSES responses: "not enough responses".
    ikm: Decimal | None
    grade: str | None

    @property
    def enough(self) -> bool:
        """Tell whether there are enough responses for an IKM."""
        return self.ikm is not None

    def as_json(self) -> dict:
        """Return the API object (element means to 0.01, IKM as a number to 0.01)."""
        return {
            "responses": self.responses,
            "element_means": {k: None if v is None else round(v, 2)
                              for k, v in self.element_means.items()},
            "ikm": None if self.ikm is None else float(self.ikm),
            "grade": self.grade,
        }


def ikm_round(value: Fraction) -> Decimal:
    """Round an exact IKM to 2 decimals, half up (the published figure)."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def ikm_grade(ikm: Decimal | float) -> str:
    """Return the grade (A–D) of an IKM already rounded to 2 decimals."""
    value = Decimal(str(ikm))
    for grade, lowest in GRADES:
        if value >= lowest:
            return grade
    return "D"


def ikm_from_sums(responses: int, sums: Mapping[str, int]) -> IkmResult:
    """Compute the IKM from the number of responses and each element's sum of scores."""
    if responses <= 0:
        return IkmResult(0, dict.fromkeys(SURVEY_ELEMENTS), None, None)
    means = {name: Fraction(int(sums[name]), responses) for name in SURVEY_ELEMENTS}
    float_means: dict[str, float | None] = {k: float(v) for k, v in means.items()}
    if responses < MIN_RESPONSES:
        return IkmResult(responses, float_means, None, None)
    exact = 25 * sum(means.values(), Fraction(0)) / len(SURVEY_ELEMENTS)
    ikm = ikm_round(exact)
    return IkmResult(responses, float_means, ikm, ikm_grade(ikm))


def _sums_by_service(
    service_ids: Iterable[int], from_date: date, to_date: date
) -> dict[int, tuple[int, dict[str, int]]]:
    """Return (responses, element sums) per service over the WIB dates (one grouped query)."""
    ids = list(service_ids)
    if not ids:
        return {}
    start, end = window_bounds(from_date, to_date)
    columns = [func.sum(getattr(SurveyResponse, name)) for name in SURVEY_ELEMENTS]
    result = {}
    for begin in range(0, len(ids), 900):
        stmt = (
            select(SurveyResponse.service_id, func.count(), *columns)
            .where(
                SurveyResponse.service_id.in_(ids[begin:begin + 900]),
                SurveyResponse.submitted_at >= start,
                SurveyResponse.submitted_at < end,
            )
            .group_by(SurveyResponse.service_id)
        )
        for service_id, count, *sums in db.session.execute(stmt):
            result[service_id] = (int(count), dict(zip(SURVEY_ELEMENTS, map(int, sums),
                                                       strict=True)))
    return result


def ikm_by(
    groups: Mapping[Hashable, Iterable[int]], from_date: date, to_date: date
) -> dict[Hashable, IkmResult]:
    """Return the IKM of each group of service ids (e.g. per department) in one query."""
    groups = {key: list(ids) for key, ids in groups.items()}
    per_service = _sums_by_service({i for ids in groups.values() for i in ids}, from_date,
                                   to_date)
    results = {}
    for key, ids in groups.items():
        responses = 0
        sums = dict.fromkeys(SURVEY_ELEMENTS, 0)
        for service_id in ids:
            count, service_sums = per_service.get(service_id, (0, {}))
            responses += count
            for name, value in service_sums.items():
                sums[name] += value
        results[key] = ikm_from_sums(responses, sums)
    return results


def ikm_for(services: Iterable[Service], from_date: date, to_date: date) -> IkmResult:
    """Return the IKM of some services together over the WIB dates from..to inclusive."""
    return ikm_by({"all": [s.id for s in services]}, from_date, to_date)["all"]


# Visit tokens -------------------------------------------------------------------------------


class _ClockSigner(TimestampSigner):
    """A timestamp signer that reads the time it is given (so callers and tests set "now")."""

    def __init__(self, *args: Any, now: datetime | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now

    def get_timestamp(self) -> int:
        """Return the given time, else the current time, in whole seconds."""
        return int((self.now or utc_now()).timestamp())


def _visit_serializer(now: datetime | None) -> URLSafeTimedSerializer:
    """Return the serializer of visit tokens, its clock set to ``now`` (if given)."""
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=VISIT_SALT,
        signer=_ClockSigner, signer_kwargs={"now": now},
    )


def survey_visit_issue(service_code: str, *, now: datetime | None = None) -> str:
    """Return a new signed visit token for the survey form of a service (one answer)."""
    nonce = secrets.token_urlsafe(24)  # 32 characters: fits the unique visit_token column
    return _visit_serializer(now).dumps({"n": nonce, "s": service_code})


def survey_visit_read(service_code: str, token: str | None, *,
                      now: datetime | None = None) -> str | None:
    """Return the nonce of a genuine, unexpired visit token for this service, else None."""
    if not token or len(token) > 512:
        return None
    try:
        payload = _visit_serializer(now).loads(
            token.strip(), max_age=int(VISIT_MAX_AGE.total_seconds()))
    except BadSignature:  # forged, altered, expired (SignatureExpired) or from the future
        return None
    if not isinstance(payload, dict) or payload.get("s") != service_code:
        return None
    nonce = payload.get("n")
    if not isinstance(nonce, str) or not VISIT_TOKEN_RE.match(nonce):
        return None
    return nonce


# Answering ----------------------------------------------------------------------------------


def _scores(answers: Mapping[str, Any], errors: list[FieldError]) -> dict[str, int]:
    """Read the nine scores, each a whole number 1–4."""
    scores = {}
    for name in SURVEY_ELEMENTS:
        raw = answers.get(name)
        try:
            value = int(raw) if not isinstance(raw, bool) else None
        except (TypeError, ValueError):
            value = None
        if value is None or not SCORE_MIN <= value <= SCORE_MAX or str(raw).strip() != str(value):
            errors.append(FieldError(name, _("Choose an answer from 1 to 4.")))
        else:
            scores[name] = value
    return scores


def _feedback_for(service: Service, code: str, errors: list[FieldError]) -> Feedback | None:
    """Return the feedback a survey answer follows up, checking it may be answered."""
    try:
        feedback = feedback_get(code)
    except Exception:  # NotFound, or any malformed code
        feedback = None
    if feedback is None or feedback.service_id != service.id:
        errors.append(FieldError("feedback", _("This feedback is not about this service.")))
        return None
    if feedback.status not in SURVEYABLE_FEEDBACK:
        errors.append(FieldError(
            "feedback", _("The survey opens once your feedback is resolved.")))
        return None
    already = db.session.scalar(
        select(SurveyResponse.id).where(SurveyResponse.feedback_id == feedback.id))
    if already is not None:
        errors.append(FieldError("feedback", _("This feedback has already been rated.")))
        return None
    return feedback


def survey_check(
    service_code: str,
    answers: Mapping[str, Any],
    *,
    feedback_code: str | None = None,
    visit_token: str | None = None,
    now: datetime | None = None,
) -> tuple[Service, Feedback | None, str | None, dict[str, int]]:
    """Validate an answer without writing; raise NotFound or ValidationError.

    Returns the service, the feedback followed up (if any), the nonce of the visit token
    (when there is no feedback) and the scores.
    """
    service = catalogue.service_get(service_code)
    errors: list[FieldError] = []
    scores = _scores(answers, errors)
    feedback = None
    nonce = None
    if feedback_code:
        feedback = _feedback_for(service, feedback_code, errors)
    elif (nonce := survey_visit_read(service.code, visit_token, now=now)) is None:
        errors.append(FieldError("visit_token", _("The form has expired. Please send it "
                                                  "again.")))
    elif db.session.scalar(select(SurveyResponse.id).where(
            SurveyResponse.visit_token == nonce)) is not None:
        errors.append(FieldError("visit_token", _("This answer has already been received.")))
    if errors:
        raise ValidationError(errors)
    return service, feedback, nonce, scores


def survey_submit(
    service_code: str,
    answers: Mapping[str, Any],
    *,
    feedback_code: str | None = None,
    visit_token: str | None = None,
    lang: str = "id",
    now: datetime | None = None,
) -> SurveyResponse:
    """Record one survey answer about a service (once per feedback or per visit) and commit.

    ``answers`` maps u1..u9 to scores 1–4. Either ``feedback_code`` (the tracking code of a
    resolved or closed feedback about the service) or ``visit_token`` (issued for this
    service by survey_visit_issue at most VISIT_MAX_AGE before ``now``) is needed; each may
    be used once.
    """
    service, feedback, nonce, scores = survey_check(
        service_code, answers, feedback_code=feedback_code, visit_token=visit_token, now=now
    )
    response = SurveyResponse(
        service_id=service.id,
        feedback_id=feedback.id if feedback else None,
        visit_token=nonce,
        lang=lang if lang in ("id", "en") else "id",
        submitted_at=now or utc_now(),
        **scores,
    )
    db.session.add(response)
    try:
        db.session.commit()
    except IntegrityError as error:  # a double click raced the check above
        db.session.rollback()
        raise ValidationError([FieldError(
            "feedback" if feedback else "visit_token",
            _("This answer has already been received."))]) from error
    return response


def survey_import(rows: list[Mapping[str, Any]]) -> int:
    """Store many visit-token answers at once (demo data, imports from paper surveys).

    Each row holds ``service_id``, ``visit_token``, ``submitted_at`` and u1..u9. Every row is
    validated as an answer from the form is; rows whose token is already stored are skipped,
    so a re-run adds nothing. Returns how many were added; commits once.
    """
    errors: list[FieldError] = []
    tokens = [str(row.get("visit_token") or "") for row in rows]
    existing: set[str] = set()
    for start in range(0, len(tokens), 900):
        existing.update(db.session.scalars(select(SurveyResponse.visit_token).where(
            SurveyResponse.visit_token.in_(tokens[start:start + 900]))))
    values = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        token = tokens[index]
        if token in existing or token in seen:
            continue
        row_errors: list[FieldError] = []
        scores = _scores(row, row_errors)
        if not VISIT_TOKEN_RE.match(token):
            row_errors.append(FieldError("visit_token", _("is not a valid token")))
        for error in row_errors:
            error.index = index
        errors.extend(row_errors)
        seen.add(token)
        values.append({"service_id": row["service_id"], "visit_token": token,
                       "submitted_at": row["submitted_at"], "lang": row.get("lang", "id"),
                       **scores})
    if errors:
        raise ValidationError(errors)
    if values:
        db.session.execute(insert(SurveyResponse), values)
    db.session.commit()
    return len(values)
