"""Staff pages under /<lang>/staff: login, dashboard, accounts, audit log, catalogue upkeep."""

from portal.views.staff import accounts, catalogue, session  # noqa: F401  (registers routes)
from portal.views.staff.blueprint import bp, dashboard_link, safe_next

__all__ = ["bp", "dashboard_link", "safe_next"]
