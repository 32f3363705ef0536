"""Fixtures of the operations tests."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture(autouse=True)
def portal_loggers_enabled():
    """Enable the loggers these tests read, whatever ran before in this process.

    Migrations run in-process (tests/migrations, tests/test_project) load Alembic's logging
    configuration (migrations/env.py: ``fileConfig``), which disables every logger existing
    at that moment, the portal's included.
    """
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and (
            name.startswith("portal") or name == "flask-limiter"
        ):
            logger.disabled = False
