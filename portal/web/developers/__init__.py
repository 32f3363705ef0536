"""The developer page: how to use the portal's APIs, feeds and data downloads."""

from portal.web.developers.pages import bp

__all__ = ["bp"]
