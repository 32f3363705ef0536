"""Staff pages under /<lang>/staff: login, dashboard, accounts, audit log, catalogue upkeep."""

from portal.views.staff import (  # noqa: F401  (registers routes)
    accounts,
    catalogue,
    session,
    tokens,
)
from portal.views.staff.blueprint import bp, dashboard_link, safe_next

__all__ = ["bp", "dashboard_link", "safe_next"]
