"""Open data pages and downloads, on one blueprint (``bp``)."""

from portal.web.data.pages import bp

__all__ = ["bp"]
