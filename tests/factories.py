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
            first_response_value=service.first_response_value,
            first_response_unit=service.first_response_unit,
        )
    )
    db.session.add(service)
    db.session.commit()
    return service


# Staff accounts ----------------------------------------------------------------------------

STAFF_PASSWORD = "correct horse battery staple"


def create_user(
    role: str = "officer",
    department: Any = None,
    password: str = STAFF_PASSWORD,
    **overrides: Any,
) -> Any:
    """Create and commit an active staff account (an officer gets a new department if none)."""
    from portal.models import User
    from portal.services.auth import password_hash

    n = next(_seq)
    if role == "officer" and department is None:
        department = create_department()
    values: dict[str, Any] = {
        "username": f"{role}-{n}",
        "full_name": f"Staf Contoh {n}",
        "email": f"staf{n}@example.go.id",
        "is_active": True,
    }
    values.update(overrides)
    user = User(role=role, department=department, password_hash=password_hash(password), **values)
    db.session.add(user)
    db.session.commit()
    return user


def csrf_token_from(html: str) -> str:
    """Return the value of the first csrf_token hidden input in a page."""
    import re

    match = re.search(r'name="(?:[\w-]+-)?csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="(?:[\w-]+-)?csrf_token"', html
    )
    assert match, "no csrf_token input in the page"
    return match.group(1)


def login(client: Any, username: str, password: str = STAFF_PASSWORD, lang: str = "en") -> Any:
    """Log a test client in through the staff login form (with its CSRF token)."""
    page = client.get(f"/{lang}/staff/login")
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(
        f"/{lang}/staff/login",
        data={"csrf_token": token, "username": username, "password": password},
    )
