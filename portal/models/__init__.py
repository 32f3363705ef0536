"""Database models, one module per aggregate."""

from portal.models.catalogue import (
    CalendarDay,
    CommitmentChange,
    Department,
    Service,
    SiteSetting,
    WorkModeChange,
)

__all__ = [
    "CalendarDay",
    "CommitmentChange",
    "Department",
    "Service",
    "SiteSetting",
    "WorkModeChange",
]
