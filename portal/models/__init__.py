"""Database models, one module per aggregate."""

from portal.models.accountability import AccountabilitySnapshot, ReportFile
from portal.models.arrangements import WfaArrangement
from portal.models.catalogue import (
    CalendarDay,
    CommitmentChange,
    Department,
    Service,
    ServicePointer,
    SiteSetting,
    WorkModeChange,
)
from portal.models.feedback import (
    Attachment,
    Feedback,
    FeedbackDigest,
    FeedbackEvent,
    IntegrityPhrase,
    OutboxMessage,
    RoutingRule,
)
from portal.models.incidents import AvailabilityCheck, Incident, IncidentUpdate, Maintenance
from portal.models.metrics import (
    ApiToken,
    ServiceDay,
    ServicePageFigures,
    ServiceReport,
    ServiceRequest,
    ServiceStatus,
    ServiceStatusChange,
)
from portal.models.open311 import Open311Key, Open311Request
from portal.models.ops import JobRun
from portal.models.subscriptions import Subscription, SubscriptionNotice
from portal.models.survey import SurveyResponse
from portal.models.users import ROLES, AuditEntry, User

__all__ = [
    "AccountabilitySnapshot",
    "WfaArrangement",
    "Attachment",
    "Feedback",
    "FeedbackDigest",
    "FeedbackEvent",
    "IntegrityPhrase",
    "OutboxMessage",
    "ReportFile",
    "RoutingRule",
    "AvailabilityCheck",
    "Incident",
    "IncidentUpdate",
    "Maintenance",
    "ApiToken",
    "ServiceDay",
    "ServicePageFigures",
    "ServiceReport",
    "ServiceRequest",
    "ServiceStatus",
    "ServiceStatusChange",
    "Subscription",
    "SubscriptionNotice",
    "Open311Key",
    "Open311Request",
    "JobRun",
    "CalendarDay",
    "CommitmentChange",
    "Department",
    "Service",
    "ServicePointer",
    "SiteSetting",
    "WorkModeChange",
    "SurveyResponse",
    "ROLES",
    "AuditEntry",
    "User",
]
