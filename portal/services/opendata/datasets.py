"""The datasets the portal publishes, in the order the data page lists them, and their licence."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.models.catalogue import Department, Service
from portal.services.errors import NotFound
from portal.services.opendata.catalogue import (
    COMMITMENT_CHANGES,
    DEPARTMENTS,
    SERVICES,
    WORK_MODE_CHANGES,
)
from portal.services.opendata.citizens import FEEDBACK_DEPARTMENTS, IKM_DEPARTMENTS, IKM_SERVICES
from portal.services.opendata.disruptions import AVAILABILITY_DAYS, INCIDENTS, MAINTENANCE
from portal.services.opendata.performance import SERVICE_DAYS, WFA_IMPACTS
from portal.services.opendata.schema import Dataset

DATASETS: tuple[Dataset, ...] = (
    SERVICES,
    DEPARTMENTS,
    WORK_MODE_CHANGES,
    COMMITMENT_CHANGES,
    SERVICE_DAYS,
    WFA_IMPACTS,
    AVAILABILITY_DAYS,
    INCIDENTS,
    MAINTENANCE,
    FEEDBACK_DEPARTMENTS,
    IKM_DEPARTMENTS,
    IKM_SERVICES,
)
_BY_NAME = {dataset.name: dataset for dataset in DATASETS}
assert len(_BY_NAME) == len(DATASETS)
# Every foreign key names a published dataset and columns it has.
for _dataset in DATASETS:
    for _key in _dataset.foreign_keys:
        assert set(_key.reference_fields) <= set(_BY_NAME[_key.resource].header), _key


@dataclass(frozen=True)
class Licence:
    """The licence the portal's data is published under."""

    url: str
    name: str


def data_licence() -> Licence:
    """Return the data licence the configuration names (CC BY 4.0 unless told otherwise)."""
    return Licence(current_app.config["PORTAL_DATA_LICENCE_URL"],
                   current_app.config["PORTAL_DATA_LICENCE_NAME"])


def dataset_get(name: str) -> Dataset:
    """Return a published dataset by name; raise NotFound."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise NotFound(name) from None


def dataset_list() -> Iterator[Dataset]:
    """Return the published datasets in the data page's order."""
    return iter(DATASETS)


def dataset_coverages(now: datetime) -> dict[str, tuple[date, date] | None]:
    """Return each dataset's coverage by name (None: no data yet, or a snapshot of the present).

    Each coverage function is run once: datasets read from the same table share one.
    """
    found: dict[Callable, tuple[date, date] | None] = {}
    coverages = {}
    for dataset in DATASETS:
        if dataset.coverage is not None and dataset.coverage not in found:
            found[dataset.coverage] = dataset.coverage(now)
        coverages[dataset.name] = found.get(dataset.coverage) if dataset.coverage else None
    return coverages


def filter_examples(today: date) -> dict[str, str]:
    """Return example filter values for the data page: a real service and department (the
    first by code, "CODE" when there is none) and the whole of last month."""
    service = db.session.scalar(select(Service.code).order_by(Service.code).limit(1))
    department = db.session.scalar(select(Department.code).order_by(Department.code).limit(1))
    last_month_end = today.replace(day=1) - timedelta(days=1)
    return {
        "service": service or "CODE",
        "department": department or "CODE",
        "from": last_month_end.replace(day=1).isoformat(),
        "to": last_month_end.isoformat(),
    }
