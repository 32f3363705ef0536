"""JSON API v1 under /api/v1, on one blueprint (``bp``).

Services and metrics, feedback, the accountability figures and the OpenAPI description:
each module adds its routes to ``bp`` when imported here.
"""

from portal.web.api import (  # noqa: F401  (registers routes)
    accountability,
    feedback,
    openapi,
    services,
)
from portal.web.api.blueprint import bp

__all__ = ["bp"]
