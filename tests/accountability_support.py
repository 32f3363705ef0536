"""Helpers for the accountability tests: daily aggregates and work-mode moves, written directly."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from portal.extensions import db
from portal.models import ServiceDay, WorkModeChange
from portal.services.metrics.figures import histogram_dump


def add_day(
    service: Any, day: date, completed: int, on_time: int, hours: list[float] | None = None,
    received: int = 0,
) -> None:
    """Write one service_day row: completions, on-time ones, their durations (default 1 h)."""
    durations = hours if hours is not None else [1.0] * completed
    assert len(durations) == completed
    histogram = Counter(int(h * 3600) for h in durations)
    db.session.add(ServiceDay(
        service_id=service.id, day=day, received=received, received_online=0,
        completed=completed, completed_on_time=on_time, first_responses=0,
        first_responses_on_time=0, completion_histogram=histogram_dump(histogram),
    ))
    db.session.commit()


def spread(service: Any, first: date, days: int, completed: int, on_time: int) -> None:
    """Spread completed / on-time counts over consecutive days (remainders on the first)."""
    per_day, extra = divmod(completed, days)
    on_per_day, on_extra = divmod(on_time, days)
    for offset in range(days):
        c = per_day + (extra if offset == 0 else 0)
        o = on_per_day + (on_extra if offset == 0 else 0)
        if c:
            add_day(service, first + timedelta(days=offset), c, o)


def move(service: Any, mode: str, when: date | None, by: str = "admin-1") -> None:
    """Append a work-mode change to a service's history."""
    service.work_mode_history.append(
        WorkModeChange(work_mode=mode, effective_from=when, recorded_by=by)
    )
    service.work_mode = mode
    service.work_mode_since = when
    db.session.commit()


def create_feedback(service: Any = None, department: Any = None, **values: Any) -> Any:
    """Write one feedback row directly (the feedback services are tested elsewhere)."""
    import secrets

    from portal.domain.calendar import utc_now
    from portal.models import Feedback

    alphabet = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
    data: dict[str, Any] = {
        "tracking_code": "".join(secrets.choice(alphabet) for _ in range(12)),
        "kind": "complaint",
        "service_id": service.id if service is not None else None,
        "department_id": (department.id if department is not None
                          else service.department_id if service is not None else None),
        "subject": "Antrean panjang",
        "body": "Saya menunggu lama.",
        "status": "routed",
        "routing_rule": "service" if service is not None else "rule",
        "submitted_at": utc_now(),
    }
    data.update(values)
    feedback = Feedback(**data)
    db.session.add(feedback)
    db.session.commit()
    return feedback


def answers_with_total(count: int, total: int) -> list[dict[str, int]]:
    """Return ``count`` survey answers (u1..u9, each 1–4) whose scores add up to ``total``."""
    cells = 9 * count
    assert cells <= total <= 4 * cells
    extra = total - cells  # every cell starts at 1; add up to 3 per cell
    answers = []
    for _ in range(count):
        answer = {}
        for index in range(1, 10):
            add = min(3, extra)
            extra -= add
            answer[f"u{index}"] = 1 + add
        answers.append(answer)
    return answers
