"""Fixtures of the fault tests: a private PostgreSQL shared by a module's tests."""

from __future__ import annotations

import pytest

from tests.faults.support import PrivatePostgres


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL of this module's own (not the shared one), running at each test's start."""
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:  # even when it failed to start: no server or folder outlives the module
        server.remove()
