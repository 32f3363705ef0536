"""The shape of error answers by address prefix: each machine API blueprint registers its own.

Pages answer errors with translated HTML. An API answers in its own shape: ``/api/`` with a
problem document (RFC 9457), Open311 with a GeoReport errors list. Errors raised before any
view of the blueprint ran (an unknown address, a method not allowed, a rate limit, an outage)
reach the app's handlers, which look the shape up here instead of testing each prefix in turn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, current_app

_EXTENSION = "portal.error_shapes"


@dataclass(frozen=True)
class ErrorShape:
    """How the clients under an address prefix are answered when something fails.

    ``error`` answers an HTTP or service error; ``outage`` answers the database or the file
    storage being down, told whether the request had already committed (then what was sent
    may have been saved).
    """

    prefix: str
    error: Callable[[Exception], Response]
    outage: Callable[[bool], Response]


def register_error_shape(bp: Blueprint, shape: ErrorShape) -> None:
    """Make the app answer errors under ``shape.prefix`` in this shape once bp is registered."""
    bp.record_once(lambda state: _shapes(state.app).append(shape))


def _shapes(app: Flask) -> list[ErrorShape]:
    return app.extensions.setdefault(_EXTENSION, [])


def error_shape_for(path: str) -> ErrorShape | None:
    """Return the shape registered for an address, or None for a page."""
    for shape in _shapes(current_app):
        if path.startswith(shape.prefix):
            return shape
    return None


__all__ = ["ErrorShape", "error_shape_for", "register_error_shape"]
