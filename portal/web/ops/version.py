"""The running version: PORTAL_VERSION as installed, else what git says of the checkout."""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Mapping
from typing import Any

from flask import current_app

from portal.config import BASE_DIR

UNKNOWN_VERSION = "unknown"


@functools.cache
def _git_describe() -> str:
    """Return `git describe --always --dirty` of the checkout, or "unknown" (asked once)."""
    try:
        result = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=BASE_DIR,
            capture_output=True, text=True, timeout=5, check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return UNKNOWN_VERSION  # no git, no checkout (an archive), or not this user's
    return result.stdout.strip() or UNKNOWN_VERSION


def version_of(config: Mapping[str, Any]) -> str:
    """Return the version the deployment wrote into PORTAL_VERSION, else git's description."""
    return config.get("PORTAL_VERSION") or _git_describe()


def application_version() -> str:
    """Return the running app's version (see version_of)."""
    return version_of(current_app.config)
