"""Real services the fault tests stop and start again: a private PostgreSQL and Redis.

Each test starts its own server on a free loopback port (never the shared one other tests
use), breaks it, and brings it back. Without the server's programs a test is skipped with the
reason, unless PORTAL_REQUIRE_DEPLOY_TOOLS=1 (set by CI) makes that a failure.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import free_port

REQUIRED = os.environ.get("PORTAL_REQUIRE_DEPLOY_TOOLS") == "1"


def server_program(name: str, package: str, extra_paths: str = "") -> str:
    """Return the path of a server's program; skip (or fail under CI) when it is missing."""
    found = shutil.which(name) or (extra_paths and shutil.which(name, path=extra_paths))
    if found:
        return found
    reason = f"{name} is not installed (apt-get install {package})"
    if REQUIRED:
        pytest.fail(f"{reason}; PORTAL_REQUIRE_DEPLOY_TOOLS=1 makes this a failure")
    pytest.skip(reason)


def _as_server_user(command: list[str]) -> list[str]:
    """Run command as the postgres user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
    if not runuser:
        pytest.fail("running as root without runuser: PostgreSQL cannot be started")
    return [runuser, "-u", "postgres", "--", *command]


class PrivatePostgres:
    """A PostgreSQL cluster of its own in a temporary folder, on a free port."""

    def __init__(self) -> None:
        bin_paths = ":".join(sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True))
        self.initdb = server_program("initdb", "postgresql", bin_paths)
        self.pg_ctl = str(Path(self.initdb).with_name("pg_ctl"))
        # Under /tmp itself: pytest's own temporary folders are private to root.
        self.folder = Path(tempfile.mkdtemp(prefix="portal-faults-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        try:
            if os.geteuid() == 0:
                shutil.chown(self.folder, "postgres", "postgres")
            subprocess.run(
                _as_server_user([self.initdb, "-D", str(self.data), "-U", "postgres",
                                 "--auth=trust", "--no-sync", "-E", "UTF8",
                                 "--locale=C.UTF-8"]),
                check=True, capture_output=True, timeout=120,
            )
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        self.running = False
        self.started_once = False

    @property
    def url(self) -> str:
        """The database's SQLAlchemy URL (its port is fixed once the server first started)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """Start the server and wait until it accepts connections.

        The first start takes another free port if its port was taken meanwhile (by a test
        running in parallel); later starts keep the port, the one the app connects to.
        """
        attempts = 1 if self.started_once else 3
        for attempt in range(attempts):
            # fsync off: only an operating-system crash could lose data then, and a killed
            # server keeps every commit (synchronous_commit stays on for that).
            options = (f"-p {self.port} -c listen_addresses=127.0.0.1 "
                       f"-c unix_socket_directories={self.folder} -c fsync=off")
            try:
                subprocess.run(
                    _as_server_user([self.pg_ctl, "-D", str(self.data), "-o", options,
                                     "-l", str(self.folder / "server.log"), "-w", "start"]),
                    check=True, capture_output=True, timeout=60,
                )
                break
            except subprocess.CalledProcessError:
                if attempt == attempts - 1:
                    raise
                self.port = free_port()
        self.running = True
        self.started_once = True

    def stop(self) -> None:
        """Stop the server at once: every open connection is cut."""
        subprocess.run(
            _as_server_user([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w",
                             "stop"]),
            check=True, capture_output=True, timeout=60,
        )
        self.running = False

    def remove(self) -> None:
        """Stop the server if it runs, and delete its folder."""
        subprocess.run(
            _as_server_user([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"]),
            capture_output=True, timeout=60,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    """A Redis server of its own, on a free port, keeping nothing on disk."""

    def __init__(self) -> None:
        self.program = server_program("redis-server", "redis-server")
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.started_once = False

    @property
    def url(self) -> str:
        """The server's URL (its port is fixed once the server first started)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it answers PING.

        The first start takes another free port if its port was taken meanwhile (by a test
        running in parallel); later starts keep the port, the one the app connects to.
        """
        attempts = 1 if self.started_once else 3
        for attempt in range(attempts):
            if self._start_once():
                self.started_once = True
                return
            if attempt == attempts - 1:
                raise RuntimeError(f"redis-server did not start on port {self.port}")
            self.port = free_port()

    def _start_once(self) -> bool:
        import redis  # the app's own client

        self.process = subprocess.Popen(
            [self.program, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    # Our server, not another test's that holds the port.
                    if client.info("server")["process_id"] == self.process.pid:
                        return True
                    self.kill()
                    return False
                except redis.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        self.kill()  # not left running half-started
                        return False
                    time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class _FormReader(HTMLParser):
    """Collect what a browser would send for the first form of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None
        self._forms = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._forms += 1
        if self._forms != 1 or "name" not in attributes and tag not in ("option",):
            return
        name = attributes.get("name", "")
        if tag == "input":
            kind = attributes.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in attributes:
                    self.fields[name] = attributes.get("value", "on")
            elif kind not in ("file", "submit"):
                self.fields[name] = attributes.get("value", "")
        elif tag == "textarea":
            self._textarea = name
            self.fields[name] = ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attributes:
            self.fields[self._select] = attributes.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            text = self.fields[self._textarea] + data
            if not self.fields[self._textarea]:
                # Browsers drop the one line break that may follow <textarea>.
                text = text.removeprefix("\r").removeprefix("\n")
            self.fields[self._textarea] = text


def form_fields(html: str) -> dict[str, str]:
    """Return the fields the first form of a page sends as it stands (a browser's view)."""
    reader = _FormReader()
    reader.feed(html)
    return reader.fields
