"""Database models, one module per aggregate."""

from portal.models.catalogue import (
    CalendarDay,
    CommitmentChange,
    Department,
    Service,
    SiteSetting,
    WorkModeChange,
)
from portal.models.feedback import (
    Attachment,
    Feedback,
    FeedbackDigest,
    FeedbackEvent,
    OutboxMessage,
    RoutingRule,
)
from portal.models.incidents import AvailabilityCheck, Incident, IncidentUpdate, Maintenance
from portal.models.metrics import (
    ApiToken,
    ServiceDay,
    ServiceReport,
    ServiceRequest,
    ServiceStatus,
)
from portal.models.open311 import Open311Key, Open311Request
from portal.models.ops import JobRun
from portal.models.survey import SurveyResponse
from portal.models.users import ROLES, AuditEntry, User

__all__ = [
    "Attachment",
    "Feedback",
    "FeedbackDigest",
    "FeedbackEvent",
    "OutboxMessage",
    "RoutingRule",
    "AvailabilityCheck",
    "Incident",
    "IncidentUpdate",
    "Maintenance",
    "ApiToken",
    "ServiceDay",
    "ServiceReport",
    "ServiceRequest",
    "ServiceStatus",
    "Open311Key",
    "Open311Request",
    "JobRun",
    "CalendarDay",
    "CommitmentChange",
    "Department",
    "Service",
    "SiteSetting",
    "WorkModeChange",
    "SurveyResponse",
    "ROLES",
    "AuditEntry",
    "User",
]
