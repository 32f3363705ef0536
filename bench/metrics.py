"""Benchmark of service-level metrics: ingest rate, query and page cost against history length.

Usage (from the repository root; takes about 10 minutes at the default size):

    .venv/bin/python bench/metrics.py [--services 1000] [--per-day 1] [--years 3] [--rounds 3]

Steps, printed as they go:
1. build a catalogue of ``--services`` services in 50 departments, in a fresh SQLite database;
2. load 1 year of history through the ingest service (in process), then copy the database
   (SQLite's backup API, the engine closed first) to ``one_year.sqlite3`` beside it;
3. add the older years (3 in all) to the main database;
4. measure both databases side by side, each in a fresh child process
   (``bench/metrics.py --measure URL``: the app on that database, page cache off, warmed up,
   one JSON line of figures), alternating 1-year and 3-year children for ``--rounds`` rounds:
   the median CPU time of a 30-day and of a 365-day ``metrics_for_service`` (50 services) and
   of the service list (HTML page and JSON API). Fresh processes, because the process that
   has just ingested the history (a larger heap, slower garbage collection, colder caches)
   measures itself, not the data. The ratios 3y/1y, of each database's minimum over the
   rounds, should stay within 1.2x, since figures read daily aggregates, not raw requests;
5. start gunicorn on the 3-year database and measure the ingest rate through
   ``POST /api/v1/service-requests`` (batches of 5,000; target >= 5,000 requests/s) and the
   throughput of the home, service list and service pages as a share of ``/healthz``
   measured just before each (target >= 0.2x, as the province-scale issue asks of uncached
   pages), with the page cache off. Its clients are Python threads in this process, sharing
   the machine with the server: ``bench.pages`` (wrk) is the reference for pages.
Not a timed test: it prints figures and ratios to quote in the README. Runs at any time of
the day (nothing is generated after now). Every page and API GET, the accountability pages
included, on PostgreSQL and with the cache off and on: bench/province.py and bench/pages.py
(see bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal import create_app  # noqa: E402
from portal.domain.calendar import UTC, WIB, utc_now, wib_date  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.services.auth import CLI_OPERATOR  # noqa: E402


def _median_time(fn, repeat: int = 7) -> float:
    """Return the median CPU time of a call, in milliseconds.

    CPU time of this process, not wall time: SQLite runs in process, and on a shared
    2-core machine wall time mostly measures what the other processes are doing.
    """
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def build_catalogue(n_services: int) -> None:
    """Create 50 departments and n services with believable commitments."""
    from sqlalchemy import insert

    from portal.models import Department, Service
    from portal.models.catalogue import name_keys

    rng = random.Random(1)
    db.session.execute(insert(Department), [
        {"code": f"dinas-{d:02d}", "name_id": f"Dinas {d}", "name_en": f"Office {d}"}
        for d in range(50)])
    departments = {d.code: d.id for d in db.session.scalars(db.select(Department))}
    rows = []
    for i in range(n_services):
        hours = rng.random() < 0.2
        rows.append({
            "code": f"layanan-{i:04d}", "department_id": departments[f"dinas-{i % 50:02d}"],
            "name_id": f"Layanan {i}", "name_en": f"Service {i}",
            # A bulk insert fires no ORM event: the lists' sort keys are written here.
            **dict(zip(("name_key_id", "name_key_en"), name_keys(f"Layanan {i}", f"Service {i}"),
                       strict=True)),
            "work_mode": rng.choice(["onsite", "hybrid", "wfa"]),
            "commitment_value": rng.choice([4, 24, 48]) if hours else rng.choice([1, 3, 5, 14]),
            "commitment_unit": "hours" if hours else "working_days",
            "on_time_target": 0.9,
        })
    db.session.execute(insert(Service), rows)
    db.session.commit()


def _requests_for(service, day: date, per_day: int, rng: random.Random, now: datetime,
                  prefix: str = "B") -> list[dict]:
    """Generate a service's requests received on one WIB day, up to now.

    Requests the day would still receive after now are left out: ingest rightly refuses a
    time in the future, and "today" is only partly over at any time of the day.
    """
    out = []
    for k in range(per_day):
        received = datetime.combine(day, dtime(8 + rng.randrange(8), rng.randrange(60)), WIB)
        completed = received + timedelta(hours=rng.expovariate(1 / 40))
        # A first response comes at the latest with the completion (ingest refuses it later).
        first = min(received + timedelta(hours=rng.uniform(0.2, 30)), completed)
        if received > now:
            continue
        out.append({
            "service": service.code, "id": f"{prefix}{day:%Y%m%d}-{k}",
            "received_at": received.isoformat(),
            "first_response_at": first.isoformat() if first <= now else None,
            "completed_at": completed.isoformat() if completed <= now and rng.random() > 0.01
            else None,
            "channel": rng.choice(["online", "counter", "phone"]),
        })
    return out


def load_history(first_day: date, last_day: date, per_day: int, now: datetime) -> int:
    """Ingest every service's requests received between two WIB days, one batch a service."""
    from sqlalchemy.orm import selectinload

    from portal.models import Service
    from portal.services.metrics.service_requests import service_requests_ingest

    services = list(db.session.scalars(
        db.select(Service).options(selectinload(Service.department)).order_by(Service.id)))
    total = 0
    for service in services:
        rng = random.Random(f"{service.code}:{first_day}")
        requests = []
        day = first_day
        while day <= last_day:
            if day.weekday() < 5:
                requests.extend(_requests_for(service, day, per_day, rng, now))
            day += timedelta(days=1)
        service_requests_ingest(service.department, requests, now=now, limit=None)
        total += len(requests)
    return total


def measure_queries(app) -> dict[str, float]:
    """Time 30-day and 365-day metrics queries and the service list (page and JSON).

    Each is called once first, untimed: the first call compiles templates and statements
    and fills the working calendar, in a child as fresh as the one it is compared with.
    """
    from portal.models import Service
    from portal.services.metrics.figures import metrics_for_service

    services = list(db.session.scalars(db.select(Service).order_by(Service.id).limit(50)))
    today = wib_date(utc_now())

    def metrics(days: int):
        start = today - timedelta(days=days - 1)

        def run() -> None:
            for service in services:
                metrics_for_service(service, start, today)
        return run

    client = app.test_client()
    timed = {
        "metrics_30d_ms": (metrics(30), 9, len(services)),
        "metrics_365d_ms": (metrics(365), 9, len(services)),
        "service_list_page_ms": (lambda: client.get("/id/services"), 5, 1),
        "service_list_api_ms": (lambda: client.get("/api/v1/services"), 5, 1),
    }
    for fn, _repeat, _per in timed.values():
        fn()
    return {key: _median_time(fn, repeat) / per for key, (fn, repeat, per) in timed.items()}


def measure_child(database_url: str) -> None:
    """Measure the figures on a database in this (fresh) process and print them as JSON."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "PORTAL_PAGE_CACHE_SECONDS": 0})
    with app.app_context():
        figures = measure_queries(app)
    print(json.dumps(figures), flush=True)


def measure_in_child(database_url: str, label: str) -> dict[str, float]:
    """Run ``--measure`` on a database in a fresh Python process and return its figures.

    The child's log lines go to stderr as usual; its last line on stdout is the figures.
    """
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--measure", database_url],
        cwd=ROOT, env={**os.environ, "PORTAL_PAGE_CACHE_SECONDS": "0"},
        stdout=subprocess.PIPE, text=True, check=True)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"[{label}] " + ", ".join(f"{k}={v:.2f}" for k, v in figures.items()), flush=True)
    return figures


def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database file consistently, through SQLite's backup API.

    The engine's pooled connections are closed first, so that nothing of the source is
    held open; the backup copies every committed page whatever the journal mode.
    """
    db.session.commit()
    db.session.remove()
    db.engine.dispose()
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def compare(urls: dict[str, str], rounds: int, years: int) -> None:
    """Measure each database in alternating fresh children and print the 3y/1y ratios.

    A figure's ratio is of each database's minimum over the rounds: the least disturbed
    run by the other processes of a shared machine.
    """
    runs: dict[str, list[dict[str, float]]] = {label: [] for label in urls}
    for r in range(1, rounds + 1):
        for label, url in urls.items():
            runs[label].append(measure_in_child(url, f"{label}, round {r}"))
    one, three = ({key: min(run[key] for run in label_runs) for key in label_runs[0]}
                  for label_runs in runs.values())
    for key in one:
        print(f"[flat] {key}: {three[key] / one[key]:.2f}x from 1 to {years} years "
              f"(target <= 1.2x; minimum of {rounds} rounds: {one[key]:.2f} -> "
              f"{three[key]:.2f} ms)", flush=True)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _throughput(url: str, seconds: float = 5.0, concurrency: int = 8) -> float:
    """Return completed GET requests per second with some concurrent clients."""
    stop = time.monotonic() + seconds
    counts = [0] * concurrency

    def worker(i: int) -> None:
        while time.monotonic() < stop:
            with urllib.request.urlopen(url, timeout=30) as response:
                response.read()
            counts[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / seconds


def measure_server(app, database_url: str, per_batch: int = 5000, batches: int = 6) -> None:
    """Start gunicorn and measure API ingest rate and page throughput against /healthz."""
    from portal.models import Department, Service
    from portal.services.metrics.tokens import token_create

    department = db.session.scalar(db.select(Department).order_by(Department.id))
    services = list(db.session.scalars(
        db.select(Service).where(Service.department_id == department.id)))
    _token, plaintext = token_create(department.code, "bench", actor=CLI_OPERATOR)
    sample_code = services[0].code
    port = _free_port()
    # Page cache off: the throughput figures are the cost of rendering, not of cache hits
    # (bench/pages.py measures both settings).
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench",
           "PORTAL_ACCESS_LOG": "/dev/null", "WEB_CONCURRENCY": "2", "PORTAL_THREADS": "4",
           "PORTAL_PAGE_CACHE_SECONDS": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app",
         "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        rng = random.Random(7)
        now = utc_now()
        sent, elapsed = 0, 0.0
        for b in range(batches):
            requests = []
            day = wib_date(now) - timedelta(days=1 + b)
            while len(requests) < per_batch:
                service = services[len(requests) % len(services)]
                requests.extend(_requests_for(service, day, 1, rng, now,
                                              prefix=f"API{b}-{len(requests)}-"))
            body = json.dumps({"requests": requests[:per_batch]}).encode()
            request = urllib.request.Request(
                f"{base}/api/v1/service-requests", data=body, method="POST",
                headers={"Authorization": f"Bearer {plaintext}",
                         "Content-Type": "application/json"})
            start = time.perf_counter()
            with urllib.request.urlopen(request, timeout=120) as response:
                response.read()
            elapsed += time.perf_counter() - start
            sent += per_batch
        print(f"[api] ingest: {sent} requests in {elapsed:.2f} s = {sent / elapsed:,.0f} "
              "requests/s (target >= 5,000)", flush=True)
        for path in ("/id/", "/id/services", f"/id/services/{sample_code}", "/api/v1/services"):
            # /healthz just before each page: the two share the machine's load of the moment.
            health = _throughput(f"{base}/healthz")
            rate = _throughput(f"{base}{path}")
            print(f"[pages, cache off] {path}: {rate:,.0f} req/s = {rate / health:.2f}x "
                  f"/healthz ({health:,.0f} req/s; target >= 0.2x)", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    """Run the whole benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--per-day", type=int, default=1, help="requests per service per day")
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternating 1-year and 3-year measuring children")
    parser.add_argument("--skip-server", action="store_true", help="skip the gunicorn part")
    # Hidden: what each measuring child runs.
    parser.add_argument("--measure", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure_child(args.measure)
        return
    workdir = Path(tempfile.mkdtemp(prefix="pantau-bench-"))
    main_file, one_year_file = workdir / "bench.sqlite3", workdir / "one_year.sqlite3"
    url = f"sqlite:///{main_file}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PORTAL_PAGE_CACHE_SECONDS": 0})
    with app.app_context():
        db.create_all()
        build_catalogue(args.services)
        now = utc_now().astimezone(UTC)
        today = wib_date(now)
        one_year_ago = today - timedelta(days=365)
        start = time.perf_counter()
        n = load_history(one_year_ago + timedelta(days=1), today, args.per_day, now)
        took = time.perf_counter() - start
        print(f"[history] 1 year: {n:,} requests for {args.services} services in {took:.1f} s "
              f"({n / took:,.0f} requests/s in process)", flush=True)
        copy_database(main_file, one_year_file)
        start = time.perf_counter()
        n = load_history(today - timedelta(days=365 * args.years), one_year_ago, args.per_day,
                         now)
        took = time.perf_counter() - start
        print(f"[history] +{args.years - 1} years: {n:,} requests in {took:.1f} s "
              f"({n / took:,.0f} requests/s in process)", flush=True)
        # Nothing held open on the main database while the children read it.
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
        compare({"1 year": f"sqlite:///{one_year_file}", f"{args.years} years": url},
                args.rounds, args.years)
        if not args.skip_server:
            measure_server(app, url)
    print(f"database left in {workdir}")


if __name__ == "__main__":
    main()
