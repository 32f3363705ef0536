"""Database models, one module per aggregate."""

from portal.models.catalogue import (
    CalendarDay,
    CommitmentChange,
    Department,
    Service,
    SiteSetting,
    WorkModeChange,
)
from portal.models.incidents import AvailabilityCheck, Incident, IncidentUpdate, Maintenance

__all__ = [
    "AvailabilityCheck",
    "Incident",
    "IncidentUpdate",
    "Maintenance",
    "CalendarDay",
    "CommitmentChange",
    "Department",
    "Service",
    "SiteSetting",
    "WorkModeChange",
]
