"""Open311 GeoReport v2 under /open311/v2, on one blueprint (``bp``).

The resources (``views``) add their routes to ``bp`` when imported here.
"""

from portal.web.open311 import views  # noqa: F401  (registers routes)
from portal.web.open311.blueprint import bp

__all__ = ["bp"]
