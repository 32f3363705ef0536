"""Profile the reporting API's ingest in process, on a small province: where its CPU goes.

Usage (from the repository root):

    .venv/bin/python -m bench.profile_ingest [--services 120] [--departments 8] [--days 120]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_ingest] [--no-profile]

Builds a scratch database (its name must start with "bench", on loopback) with the
province generator's catalogue, then stores every department's requests of ``--days`` days
through ``service_requests_report`` (what ``POST /api/v1/service-requests`` calls, JSON
parsing aside), in reports of 5,000, timing them all and profiling them with cProfile. Prints
requests per CPU second of this process (the database's own CPU is not counted) and the
functions that take the most time. ``--no-profile`` times the same reports without cProfile,
whose overhead weighs on Python-heavy code: the figure to compare with the API's target.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import tempfile
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from sqlalchemy import select

from bench.province import DEFAULT_SEED, catalogue_write, department_batches, province_plan
from bench.support import database_recreate, portal_env, run_flask
from portal import create_app
from portal.domain.calendar import WIB, WorkingCalendar, utc_now, wib_date
from portal.extensions import db
from portal.models import Department
from portal.services.metrics.service_requests import service_requests_report


def main() -> None:
    """Build the scratch province, ingest its history in process and print the profile."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url",
                        default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_ingest")
    parser.add_argument("--services", type=int, default=120)
    parser.add_argument("--departments", type=int, default=8)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--limit", type=int, default=40, help="functions listed")
    parser.add_argument("--no-profile", action="store_true",
                        help="time the reports without cProfile and print no profile")
    args = parser.parse_args()
    today = wib_date(utc_now())
    cut = datetime.combine(today, dtime(0), WIB)
    last_day, first_day = today - timedelta(days=1), today - timedelta(days=args.days)
    url = args.database_url
    database_recreate(url)
    env = portal_env(url)
    # The models' schema (not the migrations): a scratch database for this profile only.
    setup = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with setup.app_context():
        db.create_all()
        db.engine.dispose()
    services = province_plan(args.services, args.departments, first_day, last_day,
                             DEFAULT_SEED, 1.0)
    workdir = Path(tempfile.mkdtemp(prefix="pantau-ingest-"))
    catalogue_write(workdir / "catalogue.csv", services, 0)
    run_flask(env, "catalogue", "import", str(workdir / "catalogue.csv"))
    calendar = WorkingCalendar()
    reports = []
    by_department: dict[str, list] = {}
    for s in services:
        by_department.setdefault(s.department.code, []).append(s)
    for code, specs in by_department.items():
        for batch in department_batches(specs, first_day, last_day, cut, calendar,
                                        DEFAULT_SEED):
            # Through JSON and back, as the API receives them.
            reports.append((code, json.loads(json.dumps({"requests": batch}))))
    total = sum(len(body["requests"]) for _code, body in reports)
    print(f"{len(reports)} reports, {total:,} requests, {first_day} to {last_day}")

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PORTAL_ACCOUNTABILITY_SNAPSHOTS": False})
    profile = None if args.no_profile else cProfile.Profile()
    with app.app_context(), app.test_request_context():
        departments = {d.code: d for d in db.session.scalars(select(Department))}
        cpu, wall = time.process_time(), time.perf_counter()
        if profile:
            profile.enable()
        for code, body in reports:
            service_requests_report(departments[code], body)
        if profile:
            profile.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    how = "not profiled" if profile is None else "profiled"
    print(f"stored in {wall:.1f} s wall, {cpu:.2f} s CPU of this process ({how}): "
          f"{total / cpu:,.0f} requests per CPU second, {total / wall:,.0f}/s wall")
    if profile is None:
        return
    stats = pstats.Stats(profile)
    stats.sort_stats("tottime").print_stats(args.limit)
    stats.sort_stats("cumulative").print_stats(r"portal/", args.limit)


if __name__ == "__main__":
    main()
