"""Gunicorn access log without personal data: tracking codes in paths are masked."""

from __future__ import annotations

import re

from gunicorn.glogging import Logger

# A feedback tracking code in a path, stored (12 characters) or displayed (4-4-4), any case.
TRACKING_CODE_IN_PATH = re.compile(
    r"(/feedback/)(?:[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}|[0-9A-Za-z]{12})(?=/|$)"
)


def mask_tracking_codes(path: str) -> str:
    """Replace a tracking code in a logged path by a placeholder."""
    return TRACKING_CODE_IN_PATH.sub(r"\1[code]", path)


class PrivacyLogger(Logger):
    """Gunicorn's logger, with tracking codes masked in the access log's path atoms."""

    def atoms(self, resp, req, environ, request_time):
        """Return the access-log atoms with every path masked."""
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("U", "r"):
            if key in atoms:
                atoms[key] = mask_tracking_codes(atoms[key])
        return atoms
