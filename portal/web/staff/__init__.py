"""Staff pages under /<lang>/staff: login, dashboard, accounts, audit log, catalogue upkeep."""

from portal.web.staff import (  # noqa: F401  (registers routes)
    accounts,
    catalogue,
    dprd,
    feedback,
    routing,
    session,
    tokens,
)
from portal.web.staff.blueprint import bp, dashboard_link, safe_next

__all__ = ["bp", "dashboard_link", "safe_next"]
