"""Gunicorn servers for the operations tests: several workers, JSON logs read back."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import IO

from tests.conftest import ROOT, free_port


@dataclass
class Server:
    """A running gunicorn: its address, process and the file its standard error goes to."""

    base: str
    process: subprocess.Popen
    log: IO[bytes]

    def log_lines(self) -> list[dict]:
        """Return the JSON lines written so far (gunicorn's own lines are not JSON)."""
        self.log.flush()
        self.log.seek(0)
        lines = []
        for raw in self.log.read().decode(errors="replace").splitlines():
            if raw.startswith("{"):
                lines.append(json.loads(raw))
        return lines

    def stop(self) -> None:
        """Stop gunicorn and its workers."""
        self.process.terminate()
        self.process.wait(timeout=15)
        self.log.close()


def start_gunicorn(env: dict[str, str], workers: int = 1, threads: int = 2) -> Server:
    """Start gunicorn with gunicorn.conf.py on a free loopback port; wait until it answers."""
    port = free_port()
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "wsgi:app", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads)],
        cwd=ROOT, env={"PORTAL_ACCESS_LOG": "/dev/null", **env},
        stdout=subprocess.DEVNULL, stderr=log,
    )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{server.base}/healthz", timeout=2).read()
            return server
        except (OSError, urllib.error.HTTPError) as error:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.seek(0)
                raise RuntimeError(f"gunicorn did not start: {log.read().decode()}") from error
            time.sleep(0.2)


def fetch(url: str, **kwargs) -> tuple[int, bytes, dict[str, str]]:
    """GET or POST url (a new connection each time); return status, body and headers."""
    request = urllib.request.Request(url, **kwargs)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)
