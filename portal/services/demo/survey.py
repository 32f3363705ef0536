"""Demo data: deterministic satisfaction-survey answers for the demo services.

Every service gets answers on about one day in two over the last 180 days, from a generator
seeded by (seed, service code), so a re-run on the same day adds nothing (the visit tokens
are derived from the service and the day). Each service has its own level of satisfaction,
so the demo shows every IKM grade; ``SPARSE_SERVICES`` of the request history get only a
few answers, to show "not enough responses".
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from sqlalchemy import select

from portal.domain.calendar import UTC, WIB, utc_now, wib_date
from portal.extensions import db
from portal.models.catalogue import Service
from portal.models.survey import SURVEY_ELEMENTS
from portal.services.demo.history import SPARSE_SERVICES
from portal.services.survey.skm import survey_import

DEMO_SURVEY_SEED = 20260715
DEMO_SURVEY_DAYS = 180


def _answer(rng: random.Random, level: float, offsets: dict[str, float]) -> dict[str, int]:
    """Draw one answer: each element around the service's level, clamped to 1–4."""
    return {name: min(4, max(1, round(rng.gauss(level + offsets[name], 0.55))))
            for name in SURVEY_ELEMENTS}


def demo_survey_generate(today=None, seed: int = DEMO_SURVEY_SEED) -> int:
    """Add the demo survey answers up to today; return how many were added."""
    today = today or wib_date(utc_now())
    services = list(db.session.scalars(select(Service).order_by(Service.code)))
    rows = []
    for service in services:
        rng = random.Random(f"{seed}:{service.code}")
        # A service's level: most "good" (B), some very good, some poor.
        level = rng.choice((2.7, 3.05, 3.2, 3.3, 3.45, 3.65))
        offsets = {name: rng.uniform(-0.2, 0.2) for name in SURVEY_ELEMENTS}
        per_day = 0.1 if service.code in SPARSE_SERVICES else rng.uniform(0.5, 1.4)
        for offset in range(DEMO_SURVEY_DAYS, -1, -1):
            day = today - timedelta(days=offset)
            day_rng = random.Random(f"{seed}:{service.code}:{day.isoformat()}")
            count = sum(1 for _ in range(3) if day_rng.random() < per_day / 3)
            for n in range(count):
                at = datetime.combine(day, time(8 + day_rng.randrange(9), day_rng.randrange(60)),
                                      tzinfo=WIB).astimezone(UTC)
                rows.append({
                    "service_id": service.id,
                    "visit_token": f"demo-{service.id}-{day:%Y%m%d}-{n}",
                    "submitted_at": at,
                    "lang": "id",
                    **_answer(day_rng, level, offsets),
                })
    return survey_import(rows)
