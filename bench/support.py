"""What the bench scripts share: the scratch database, flask commands, gunicorn on loopback.

Every address here is on this machine: the database must be on loopback (the scripts drop
and create it) and gunicorn binds 127.0.0.1 only.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_province"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def scratch_url(url: str) -> URL:
    """Return the parsed URL of a scratch database, refusing any other.

    The bench drops and creates this database: it must be on this machine and be named
    bench... so that no mistyped URL can reach a real one.
    """
    parsed = make_url(url)
    name = Path(parsed.database or "").stem if parsed.get_backend_name() == "sqlite" else (
        parsed.database or "")
    if not name.startswith("bench"):
        raise SystemExit(f"refusing {parsed.database!r}: a scratch database's name starts "
                         "with 'bench'")
    if parsed.get_backend_name() != "sqlite" and parsed.host not in LOOPBACK:
        raise SystemExit(f"refusing host {parsed.host!r}: the bench only uses loopback")
    return parsed


def _admin_engine(url: URL):
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


def database_drop(url: str) -> None:
    """Drop the scratch database (a SQLite file is deleted), if it exists."""
    parsed = scratch_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database or "").unlink(missing_ok=True)
        return
    admin = _admin_engine(parsed)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def database_recreate(url: str) -> None:
    """Drop and create the scratch database, empty."""
    database_drop(url)
    parsed = scratch_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)
        return
    admin = _admin_engine(parsed)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def portal_env(url: str, **extra: str) -> dict[str, str]:
    """Return the environment the portal's processes run with against this database."""
    return {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench",
            "PORTAL_ACCESS_LOG": "/dev/null", "PORTAL_RATELIMIT_ENABLED": "0", **extra}


def run_flask(env: dict[str, str], *args: str) -> str:
    """Run a flask command of the portal; return its output, or stop with its errors."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600,
    )
    if result.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return result.stdout


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A running gunicorn: its base URL, its master process and its log file."""

    base: str
    process: subprocess.Popen
    log: Path

    def workers(self) -> list[int]:
        """Return the process ids of the gunicorn workers."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(child) for child in children]


@contextmanager
def gunicorn(env: dict[str, str], workers: int = 2, threads: int = 4) -> Iterator[Server]:
    """Run gunicorn (gunicorn.conf.py) on a free loopback port until the block ends."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="pantau-bench-gunicorn-", suffix=".log")[1])
    env = {**env, "WEB_CONCURRENCY": str(workers), "PORTAL_THREADS": str(threads),
           "PORTAL_TIMEOUT": "300"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app",
             "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{server.base}/healthz", timeout=5):
                    pass
                if len(server.workers()) >= workers:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start; its log:\n{log.read_text()[-4000:]}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    log.unlink(missing_ok=True)


def cpu_seconds(pids: list[int]) -> float:
    """Return the CPU time (user + system) the processes have used, in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / CLOCK_TICKS


class DatabaseCpu:
    """The CPU the database's backends spend on one scratch database during a run.

    The portal's pool opens connections while the run goes on, so the backends are listed
    again at each ``sample()`` (e.g. after each request): a backend first seen at the start
    counts from its CPU then, one that appeared later from zero. A backend that ends between
    two samples loses its last moments; the pool keeps its connections, so few do.
    """

    def __init__(self, url: str) -> None:
        self._engine = create_engine(url) if url.startswith("postgresql") else None
        self._start: dict[int, float] = {}
        self._last: dict[int, float] = {}
        for pid, cpu in self._backends().items():
            self._start[pid] = self._last[pid] = cpu

    def _backends(self) -> dict[int, float]:
        """Return the CPU seconds of each backend of this database but the sampler's own."""
        if self._engine is None:
            return {}
        with self._engine.connect() as conn:
            pids = list(conn.scalars(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()")))
        return {pid: cpu_seconds([pid]) for pid in pids}

    def sample(self) -> None:
        """Note the CPU of the backends now, new ones included."""
        for pid, cpu in self._backends().items():
            self._start.setdefault(pid, 0.0)
            self._last[pid] = max(cpu, self._last.get(pid, 0.0))

    def seconds(self) -> float:
        """Return the CPU seconds the backends used between the start and the last sample."""
        return sum(self._last[pid] - start for pid, start in self._start.items())

    def close(self) -> None:
        """Close the sampler's connections."""
        if self._engine is not None:
            self._engine.dispose()


def memory_mb(pid: int) -> tuple[float, float]:
    """Return a process's resident memory now and at its peak, in MB."""
    values = {"VmRSS": 0.0, "VmHWM": 0.0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _sep, rest = line.partition(":")
            if key in values:
                values[key] = int(rest.split()[0]) / 1024
    except OSError:
        pass
    return values["VmRSS"], values["VmHWM"]


def wait_until_idle(pids: list[int], limit: float = 120.0) -> float:
    """Wait until the processes use (almost) no CPU; return how long that took, in seconds.

    A request that a load generator abandoned keeps a worker busy after it stops: the next
    measurement must not pay for it.
    """
    start = time.monotonic()
    before = cpu_seconds(pids)
    while time.monotonic() - start < limit:
        time.sleep(0.25)
        now = cpu_seconds(pids)
        if now - before < 0.02:
            break
        before = now
    return time.monotonic() - start
