"""Factories: create_<entity>(**overrides) with believable defaults."""

from __future__ import annotations

import itertools
from typing import Any

from portal.extensions import db
from portal.models import CommitmentChange, Department, Service, WorkModeChange

_seq = itertools.count(1)


def create_department(**overrides: Any) -> Department:
    """Create and commit a department."""
    n = next(_seq)
    values: dict[str, Any] = {
        "code": f"dinas-{n}",
        "name_id": f"Dinas Contoh {n}",
        "name_en": f"Example Office {n}",
    }
    values.update(overrides)
    department = Department(**values)
    db.session.add(department)
    db.session.commit()
    return department


def create_service(**overrides: Any) -> Service:
    """Create and commit a service with its first history entries."""
    n = next(_seq)
    department = overrides.pop("department", None) or create_department()
    values: dict[str, Any] = {
        "code": f"layanan-{n}",
        "name_id": f"Layanan Contoh {n}",
        "name_en": f"Example Service {n}",
        "work_mode": "onsite",
        "commitment_value": 5,
        "commitment_unit": "working_days",
        "on_time_target": 0.9,
    }
    values.update(overrides)
    service = Service(department=department, **values)
    service.work_mode_history.append(
        WorkModeChange(work_mode=service.work_mode, effective_from=service.work_mode_since)
    )
    service.commitment_history.append(
        CommitmentChange(
            commitment_value=service.commitment_value,
            commitment_unit=service.commitment_unit,
            on_time_target=service.on_time_target,
        )
    )
    db.session.add(service)
    db.session.commit()
    return service
