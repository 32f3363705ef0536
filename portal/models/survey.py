"""Answers to the community satisfaction survey (SKM, PermenPANRB 14/2017).

One row is one citizen's answer about one service: nine elements scored 1 to 4. No personal
data is kept. De-duplication: at most one answer per feedback (``feedback_id`` unique), and
one per visit of the survey form (``visit_token``, a random token the form carries, unique).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models.types import UTCDateTime, utcnow

# U1 requirements, U2 procedure, U3 time, U4 cost, U5 product, U6 staff competence,
# U7 staff behaviour, U8 complaint handling, U9 facilities (docs/definitions.md, "Satisfaction").
SURVEY_ELEMENTS = ("u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9")
SCORE_MIN, SCORE_MAX = 1, 4
MAX_VISIT_TOKEN = 64


class SurveyResponse(db.Model):
    """One answer to the nine-element satisfaction survey about a service."""

    __tablename__ = "survey_response"
    __table_args__ = (
        *(CheckConstraint(f"{name} BETWEEN {SCORE_MIN} AND {SCORE_MAX}", name=name)
          for name in SURVEY_ELEMENTS),
        CheckConstraint("feedback_id IS NOT NULL OR visit_token IS NOT NULL", name="dedup_key"),
        Index("ix_survey_response_service_submitted", "service_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    # The resolved feedback this answer follows up, if any: one answer per feedback.
    feedback_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback.id", ondelete="SET NULL"), unique=True
    )
    # The random token of one visit of the form: one answer per visit.
    visit_token: Mapped[str | None] = mapped_column(String(MAX_VISIT_TOKEN), unique=True)
    u1: Mapped[int] = mapped_column(Integer)
    u2: Mapped[int] = mapped_column(Integer)
    u3: Mapped[int] = mapped_column(Integer)
    u4: Mapped[int] = mapped_column(Integer)
    u5: Mapped[int] = mapped_column(Integer)
    u6: Mapped[int] = mapped_column(Integer)
    u7: Mapped[int] = mapped_column(Integer)
    u8: Mapped[int] = mapped_column(Integer)
    u9: Mapped[int] = mapped_column(Integer)
    # The language the form was answered in (for analysis of the wording only).
    lang: Mapped[str] = mapped_column(String(5), default="id")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
