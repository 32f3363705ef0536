"""The periodic commands run as jobs: under their lock, and recorded (portal.services.jobs)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from portal.services.jobs import JOBS_BY_NAME, SKIP_REASONS, job_run


def periodic_job(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run a command as the periodic job ``name``: one at a time across servers, recorded."""
    if name not in JOBS_BY_NAME:
        raise ValueError(f"unknown periodic job: {name}")

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            result = job_run(name, lambda: command(*args, **kwargs))
            if result.skipped:
                click.echo(f"{name}: skipped, {SKIP_REASONS[result.detail]}")
            return result.value

        return run

    return decorate
