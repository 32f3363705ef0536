"""Profile one page in process, page cache off: which queries it runs and where its time goes.

Usage (from the repository root, against a database built by ``bench.province``):

    .venv/bin/python -m bench.profile_page [PATH] [--database-url URL] [--top 25]

PATH defaults to ``/id/accountability``. The page is requested three times through Flask's
test client: the first request pays for imports and template compiling; the second is timed
(wall and CPU) with every SQL statement recorded (time, and rows returned on PostgreSQL);
the third runs under cProfile, whose overhead makes it slower. Printed: the timings, the
statements grouped by text with their count, rows and time, the functions with the most time
of their own and the portal's functions with the most time in total, and the process's
peak memory.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import resource
import sys
import sysconfig
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import event

from bench.support import DEFAULT_DATABASE_URL, ROOT
from portal import create_app
from portal.extensions import db

SITE = str(Path(sys.prefix))
STDLIB = sysconfig.get_paths()["stdlib"]


class StatementLog:
    """Record every SQL statement an engine runs: its text, duration and rows returned."""

    def __init__(self) -> None:
        self.by_text: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])
        self.recording = False

    def attach(self, engine) -> None:
        """Listen to the engine's cursor executions."""
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if not self.recording:
            return
        took = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        entry = self.by_text[re.sub(r"\s+", " ", statement).strip()]
        entry[0] += 1
        entry[1] += max(cursor.rowcount, 0) if cursor.description is not None else 0
        entry[2] += took

    def report(self, limit: int) -> None:
        """Print the statements, the most time-consuming first."""
        count = sum(int(v[0]) for v in self.by_text.values())
        rows = sum(int(v[1]) for v in self.by_text.values())
        took = sum(v[2] for v in self.by_text.values())
        print(f"\n{count} SQL statements ({len(self.by_text)} distinct), {rows:,} rows "
              f"returned, {took * 1000:,.0f} ms waiting for the database")
        print("\n| ms | statements | rows | statement |\n| ---: | ---: | ---: | --- |")
        ranked = sorted(self.by_text.items(), key=lambda item: item[1][2], reverse=True)
        for statement, (n, r, t) in ranked[:limit]:
            short = statement if len(statement) <= 220 else statement[:220] + " ..."
            print(f"| {t * 1000:,.0f} | {int(n)} | {int(r):,} | `{short}` |")


def _where(key: tuple[str, int, str]) -> str:
    filename, line, function = key
    if filename.startswith(str(ROOT)):
        filename = filename[len(str(ROOT)) + 1:]
    elif filename.startswith(SITE):
        filename = "…" + filename[len(SITE):].split("site-packages", 1)[-1]
    elif filename.startswith(STDLIB):
        filename = "stdlib" + filename[len(STDLIB):]
    return f"{filename}:{line} {function}"


def profile_report(profile: cProfile.Profile, limit: int) -> None:
    """Print the functions with the most time of their own, then the portal's by total time."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = max(ct for (_cc, _nc, _tt, ct, _callers) in stats.values())
    print(f"\nprofiled request: {total * 1000:,.0f} ms in cProfile")
    for title, key, keep in (
        ("own time", 2, lambda k: True),
        ("total time, portal functions", 3, lambda k: "/portal/" in k[0]),
    ):
        print(f"\n{title}:\n\n| own ms | total ms | calls | function |")
        print("| ---: | ---: | ---: | --- |")
        ranked = sorted(((k, v) for k, v in stats.items() if keep(k)),
                        key=lambda item: item[1][key], reverse=True)
        for k, (_cc, nc, tt, ct, _callers) in ranked[:limit]:
            print(f"| {tt * 1000:,.0f} | {ct * 1000:,.0f} | {nc:,} | `{_where(k)}` |")


def main() -> None:
    """Request one page three times and print its queries and profile."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default="/id/accountability")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url,
                      "PORTAL_PAGE_CACHE_SECONDS": 0, "PORTAL_RATELIMIT_ENABLED": False})
    log = StatementLog()
    with app.app_context():
        log.attach(db.engine)
    client = app.test_client()

    def timed() -> tuple[float, float, int, int]:
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(args.path)
        return (time.perf_counter() - wall, time.process_time() - cpu, response.status_code,
                len(response.data))

    wall, cpu, status, size = timed()
    print(f"{args.path}: first request {wall:.2f} s ({cpu:.2f} s CPU), status {status}, "
          f"{size / 1024:,.0f} KB")
    log.recording = True
    wall, cpu, status, size = timed()
    log.recording = False
    print(f"second request {wall:.2f} s wall, {cpu:.2f} s CPU in this process")
    log.report(args.top)
    profile = cProfile.Profile()
    profile.enable()
    timed()
    profile.disable()
    profile_report(profile, args.top)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this process: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
