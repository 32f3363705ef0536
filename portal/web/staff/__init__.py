"""Staff pages under /<lang>/staff, all on one blueprint (``bp``).

Login, dashboard, accounts, audit log, catalogue upkeep, feedback inbox, routing, API tokens,
incidents and maintenance, periodic jobs: each module adds its routes to ``bp`` when imported here.
"""

from portal.web.staff import (  # noqa: F401  (registers routes)
    accounts,
    arrangements,
    catalogue,
    dprd,
    feedback,
    incidents,
    jobs,
    routing,
    session,
    tokens,
)
from portal.web.staff.blueprint import bp, dashboard_link, safe_next

__all__ = ["bp", "dashboard_link", "safe_next"]
