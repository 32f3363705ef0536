"""Throughput of every public page and API GET against /healthz, page cache off and on.

Usage (from the repository root, against a database built by ``bench.province``; about
10 minutes at province scale):

    .venv/bin/python -m bench.pages [--database-url URL] [--cache off,on] [--duration 5]
        [--connections 16] [--only accountability] [--repeat 3]

Needs Debian's ``wrk`` (``apt-get install -y wrk``). For each cache setting it starts gunicorn
(gunicorn.conf.py: 2 workers x 4 threads) on 127.0.0.1 with ``PORTAL_PAGE_CACHE_SECONDS``
0 (off) or 60 (on, the default), rate limits off, and then, URL by URL, interleaved:
``wrk`` on ``/healthz``, then ``wrk`` on the URL, each for ``--duration`` seconds (longer for
a page whose first request took more than an eighth of that; at most 30 s), waiting after
each run until the workers are idle again, so that no run pays for requests left over from
the one before. A page whose first request takes longer than a run is measured instead by a
burst of one request per worker, all at once (the rate is requests over the burst's time).
It prints for each URL: requests/s, the ratio to the
``/healthz`` run just before it, CPU milliseconds per request in the workers and in the
database (and the CPU ratio: /healthz's cost over the page's, steadier than requests/s on a
shared machine), mean latency, the time of the first request, and the response size raw
and as served to a client that accepts gzip. Requests carry a browser's
``Accept-Encoding`` (``--accept-encoding``), no cookie and no ``If-None-Match``: never a 304.
On a machine whose speed swings from one minute to the next, ``--repeat 3`` measures each URL
three times, each after its own ``/healthz`` run, and reports the run of the median ratio with
the range of all three.

"Cache off" means that nothing a page shows is kept between requests: no rendered page, no
serialised JSON; the pages with a live script read the data version on every request (they
show it), the answers nothing may keep read no version at all. What stays on in both settings
are memos of pure formatting (a rate, a date, a status sentence for given numbers; see
``by_lang`` in portal/web/public/pages.py; the layout's brand, navigation and footer per
language, portal/web/site_parts.py) and the working calendar, which is re-read each time and
only rebuilt when it changed: they keep nothing that can go stale.
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlparse

from sqlalchemy import create_engine, text

from bench.support import (
    DEFAULT_DATABASE_URL,
    LOOPBACK,
    Server,
    cpu_seconds,
    gunicorn,
    memory_mb,
    portal_env,
    wait_until_idle,
)
from portal.domain.calendar import utc_now, wib_date
from portal.services.opendata.datasets import DATASETS

BROWSER_ENCODINGS = "gzip, deflate, br, zstd"
MAX_RUN_SECONDS = 30.0


@dataclass
class Sample:
    """The codes the URLs name: a moved service with many requests, a large department, and
    an incident and a published feedback when the database has one."""

    service: str
    service_requests: int
    department: str
    department_services: int
    incident: int | None = None
    published_feedback: int | None = None


def sample_codes(url: str) -> Sample:
    """Pick the service and department whose pages cost the most."""
    engine = create_engine(url)
    with engine.connect() as conn:
        service, requests = conn.execute(text(
            "SELECT s.code, count(r.id) FROM service s JOIN service_request r "
            "ON r.service_id = s.id WHERE s.work_mode <> 'onsite' "
            "GROUP BY s.code ORDER BY count(r.id) DESC, s.code LIMIT 1")).one()
        department, services = conn.execute(text(
            "SELECT d.code, count(s.id) FROM department d JOIN service s "
            "ON s.department_id = d.id GROUP BY d.code ORDER BY count(s.id) DESC, d.code "
            "LIMIT 1")).one()
        incident = conn.scalar(text("SELECT max(id) FROM incident"))
        published = conn.scalar(text(
            "SELECT max(id) FROM feedback WHERE publish_approved IS TRUE"))
    engine.dispose()
    return Sample(service, requests, department, services, incident, published)


def vacuum(url: str) -> None:
    """VACUUM ANALYZE the database first, as a production server's autovacuum keeps it (this
    machine's cluster runs without autovacuum; the status refresh rewrites every status)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def page_urls(sample: Sample) -> list[tuple[str, str]]:
    """Return (label, path) of every public page and API GET the bench measures: the pages
    the issue names first, then every other public GET (forms, feeds, open data, Open311)."""
    today = wib_date(utc_now())
    s, d = sample.service, sample.department
    month = f"from={today - timedelta(days=29)}&to={today}"
    urls = [
        ("home", "/id/"),
        ("service list", "/id/services"),
        ("service page", f"/id/services/{s}"),
        ("department list", "/id/departments"),
        ("department page", f"/id/departments/{d}"),
        ("incidents", "/id/incidents"),
        ("incidents feed", "/id/incidents.atom"),
        ("published feedback", "/id/feedback"),
        ("how we measure", "/id/how-we-measure"),
        ("accountability", "/id/accountability"),
        ("accountability 365 days", "/id/accountability?period=365"),
        ("scorecard", f"/id/accountability/departments/{d}"),
        ("scorecard WFA impact", f"/id/accountability/departments/{d}/wfa-impact"),
        ("scorecard changes", f"/id/accountability/departments/{d}/changes"),
        ("report", f"/id/accountability/departments/{d}/report"),
        ("report PDF", f"/id/accountability/departments/{d}/report.pdf"),
        ("API services", "/api/v1/services"),
        ("API service", f"/api/v1/services/{s}"),
        ("API metrics 30 days", f"/api/v1/services/{s}/metrics?{month}"),
        ("API WFA impact", f"/api/v1/services/{s}/wfa-impact"),
        ("API accountability", "/api/v1/accountability"),
        ("API accountability CSV", "/api/v1/accountability.csv"),
        ("API accountability XLSX", "/api/v1/accountability.xlsx"),
        ("province report", "/id/accountability/report"),
        ("province report PDF", "/id/accountability/report.pdf"),
        ("service feed", f"/id/services/{s}/feed.atom"),
        ("department feed", f"/id/departments/{d}/feed.atom"),
        ("service badge", f"/badge/services/{s}.svg"),
        ("feedback form", "/id/feedback/new"),
        ("track feedback", "/id/track"),
        ("survey form", f"/id/services/{s}/survey"),
        ("subscribe", "/id/subscribe"),
        ("developers", "/id/developers"),
        ("open data", "/id/data"),
        ("data package", "/data/datapackage.json"),
        ("DCAT catalogue", "/data/catalog.jsonld"),
        *[(f"data {dataset.name}", f"/data/{dataset.name}.csv") for dataset in DATASETS],
        ("sitemap", "/sitemap.xml"),
        ("API description", "/api/v1/openapi.json"),
        ("Open311 discovery", "/open311/v2/discovery.json"),
        ("Open311 services", "/open311/v2/services.json"),
        ("Open311 service", f"/open311/v2/services/{s}.json"),
        ("Open311 requests", "/open311/v2/requests.json"),
    ]
    if sample.incident is not None:
        urls.append(("incident page", f"/id/incidents/{sample.incident}"))
    if sample.published_feedback is not None:
        urls.append(("published feedback page",
                     f"/id/feedback/published/{sample.published_feedback}"))
    return urls


@dataclass
class Fetched:
    """One plain request: status, seconds, size raw and as served compressed."""

    status: int
    seconds: float
    raw: int
    served: int
    encoding: str


def fetch(url: str, accept_encoding: str | None = None) -> tuple[int, float, bytes, str]:
    """GET a URL once; return (status, seconds, body as sent, Content-Encoding)."""
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding else {}
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=300) as response:
            body = response.read()
            return (response.status, time.perf_counter() - start, body,
                    response.headers.get("Content-Encoding", ""))
    except urllib.error.HTTPError as error:
        return error.code, time.perf_counter() - start, error.read(), ""


def measure_sizes(url: str) -> Fetched:
    """Fetch a URL once as a gzip-accepting client: timed (the first request), both sizes."""
    status, seconds, served, encoding = fetch(url, "gzip")
    raw = len(gzip.decompress(served)) if encoding == "gzip" else len(served)
    return Fetched(status, seconds, raw, len(served), encoding)


@dataclass
class Run:
    """What one measurement of a URL found (a wrk run, or a burst for a slow page)."""

    rate: float
    requests: int
    seconds: float
    latency_ms: float
    errors: int
    worker_cpu_ms: float
    db_cpu_ms: float
    burst: bool = False
    # A worker did almost none of the work even after retries (see wrk): the rate is low.
    lopsided: bool = False


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _parse_wrk(output: str) -> tuple[float, int, float, float, int]:
    """Return (requests/s, requests, seconds, mean latency ms, errors) from wrk's report."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    count, seconds, unit = re.search(r"(\d+) requests in ([\d.]+)(\w+),", output).groups()
    seconds_f = float(seconds) * (60 if unit == "m" else 0.001 if unit == "ms" else 1)
    latency = re.search(r"Latency\s+([\d.]+)(us|ms|s|m)\b", output)
    latency_ms = float(latency.group(1)) * _UNITS[latency.group(2)] if latency else float("nan")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return rate, int(count), seconds_f, latency_ms, errors


def _database_pids(url: str) -> list[int]:
    if not url.startswith("postgresql"):
        return []
    engine = create_engine(url)
    with engine.connect() as conn:
        pids = list(conn.scalars(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()")))
    engine.dispose()
    return pids


def _loopback(url: str) -> str:
    if urlparse(url).hostname not in LOOPBACK:
        raise SystemExit(f"refusing {url}: the bench only loads loopback addresses")
    return url


# A run in which a worker did less than this share of the work is run again (see wrk).
LOPSIDED_SHARE = 0.1
LOPSIDED_TRIES = 3


def wrk(server: Server, path: str, seconds: float, connections: int, accept_encoding: str,
        db_pids: list[int]) -> Run:
    """Load one URL with wrk for a bounded time and return what it measured.

    wrk's keep-alive connections stay with the worker that accepted them, and a worker may
    accept all of them: with 4 connections a third of the /healthz runs on this machine had
    one worker idle (0.0 s of CPU) and half the rate (about 520 against 1,280 requests/s),
    which swung single ratios by 2x either way. Hence 16 connections by default and, should a
    worker still do less than a tenth of the work, the run is made again (three tries; the
    last one stands, marked ``lopsided``).
    """
    url = _loopback(f"{server.base}{path}")
    workers = server.workers()
    for _attempt in range(LOPSIDED_TRIES):
        before, db_before = [cpu_seconds([pid]) for pid in workers], cpu_seconds(db_pids)
        result = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout",
             "60s", "-H", f"Accept-Encoding: {accept_encoding}", url],
            capture_output=True, text=True, timeout=seconds + 120,
        )
        # Requests still running when wrk stops finish now; count their CPU, then go on idle.
        wait_until_idle(workers)
        each = [cpu_seconds([pid]) - was for pid, was in zip(workers, before, strict=True)]
        worker_cpu = sum(each)
        db_cpu = cpu_seconds(db_pids) - db_before
        if result.returncode:
            raise SystemExit(f"wrk failed on {url}: {result.stderr}")
        lopsided = len(each) > 1 and min(each) < LOPSIDED_SHARE * worker_cpu
        if not lopsided:
            break
    rate, count, took, latency, errors = _parse_wrk(result.stdout)
    # wrk keeps one request outstanding on every connection: when it stops, the server still
    # completes those (they are in the CPU time above), so they count as served.
    served = count + connections
    return Run(rate, count, took, latency, errors, worker_cpu / served * 1000,
               db_cpu / served * 1000, lopsided=lopsided)


def burst(server: Server, path: str, n: int, accept_encoding: str, db_pids: list[int]) -> Run:
    """Send n requests at once (one per worker) and time them: a slow page's throughput.

    A page that takes seconds would finish no request in a short wrk run, and a long run
    would cost minutes of the shared machine per page; one request per worker, all at once,
    keeps every worker busy just as wrk would, for the length of one request.
    """
    url = _loopback(f"{server.base}{path}")
    workers = server.workers()
    before, db_before = cpu_seconds(workers), cpu_seconds(db_pids)
    results: list[tuple[int, float, bytes, str]] = []
    start = time.perf_counter()
    threads = [threading.Thread(target=lambda: results.append(fetch(url, accept_encoding)))
               for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    wait_until_idle(workers)
    worker_cpu = cpu_seconds(workers) - before
    db_cpu = cpu_seconds(db_pids) - db_before
    errors = sum(status != 200 for status, *_rest in results)
    latency = statistics.mean(seconds for _status, seconds, *_rest in results) * 1000
    return Run(n / wall, n, wall, latency, errors, worker_cpu / n * 1000, db_cpu / n * 1000,
               burst=True)


@dataclass
class Row:
    """One URL's line of the report."""

    label: str
    path: str
    run: Run
    health: Run
    sizes: Fetched
    # With --repeat: every run's (ratio, CPU ratio), this row's run the median one.
    runs: tuple[tuple[float, float], ...] = ()

    @property
    def ratio(self) -> float:
        """Return the URL's throughput as a share of /healthz's, measured just before."""
        return self.run.rate / self.health.rate if self.health.rate else float("nan")

    @property
    def cpu_ratio(self) -> float:
        """Return /healthz's CPU cost per request (workers and database) over the URL's.

        What the throughput ratio would be if CPU were the only limit: steadier than
        requests/s on a machine that other work shares.
        """
        page = self.run.worker_cpu_ms + self.run.db_cpu_ms
        return (self.health.worker_cpu_ms + self.health.db_cpu_ms) / page if page else 0.0


def _kb(n: int) -> str:
    return f"{n / 1024:,.1f}"


def _times(ratio: float) -> str:
    """Write a ratio readably: 0.84x, 0.012x, or 1/2,900x when it is tiny."""
    if ratio != ratio or ratio >= 0.1:  # NaN, or big enough for two decimals
        return f"{ratio:.2f}x"
    if ratio >= 0.01:
        return f"{ratio:.3f}x"
    if not ratio:
        return "0x"
    inverse = 1 / ratio
    rounded = round(inverse, 2 - len(str(int(inverse))))  # two significant digits
    return f"1/{rounded:,.0f}x"


def _spread(runs: tuple[tuple[float, float], ...]) -> str:
    """Write the runs' ratios as ranges: "0.18–0.25x, 0.20–0.24x (3 runs)"."""
    ratios, cpu = sorted(r for r, _c in runs), sorted(c for _r, c in runs)
    return (f"{_times(ratios[0])}–{_times(ratios[-1])}, {_times(cpu[0])}–{_times(cpu[-1])} "
            f"({len(runs)} runs)")


def print_table(title: str, rows: list[Row]) -> None:
    """Print one cache setting's results as a Markdown table."""
    print(f"\n### {title}\n")
    print("(first request s: with the cache on, a page measured by a burst shows the time of "
          "its first request with the cache off.)\n")
    repeated = any(len(row.runs) > 1 for row in rows)
    print("| page | req/s | /healthz req/s | ratio | CPU ratio | worker CPU ms/req "
          "| db CPU ms/req | mean latency ms | first request s | KB raw | KB gzip | status |"
          + (" runs: ratio, CPU ratio |" if repeated else ""))
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
          + (" --- |" if repeated else ""))
    for row in rows:
        served = _kb(row.sizes.served) if row.sizes.encoding == "gzip" else (
            f"{_kb(row.sizes.served)} (as is)")
        errors = f", {row.run.errors} errors" if row.run.errors else ""
        how = f" ({row.run.requests} at once)" if row.run.burst else (
            "" if row.run.requests >= 10 else f" ({row.run.requests} in {row.run.seconds:.0f} s)")
        how += " (one worker)" if row.run.lopsided else ""
        health_how = " (one worker)" if row.health.lopsided else ""
        print(f"| {row.label} | {row.run.rate:,.2f}{how} | {row.health.rate:,.0f}{health_how} "
              f"| {_times(row.ratio)} | {_times(row.cpu_ratio)} | {row.run.worker_cpu_ms:,.1f} "
              f"| {row.run.db_cpu_ms:,.1f} | {row.run.latency_ms:,.0f} | {row.sizes.seconds:.2f} "
              f"| {_kb(row.sizes.raw)} | {served} | {row.sizes.status}{errors} |"
              + (f" {_spread(row.runs)} |" if repeated else ""), flush=True)
    health = statistics.median(row.health.worker_cpu_ms + row.health.db_cpu_ms for row in rows)
    print(f"\n/healthz costs {health:.2f} ms CPU a request (median of the runs above). Paths:")
    for row in rows:
        print(f"- {row.label}: `{row.path}`")


def measure_url(server: Server, path: str, cached: bool, known: Row | None, args,
                db_pids: list[int]) -> tuple[Run, Run, Fetched]:
    """Measure one URL and /healthz just before it; return (run, /healthz run, sizes).

    A page slower than a wrk run (its first request, or its run with the cache off) is
    measured by a burst of one request per worker. With the cache on, one request goes
    first, then the burst; a burst that comes back fast shows the page is now cached: it is
    then measured with wrk like the others.
    """
    if known is not None and known.run.burst:
        sizes, slow = known.sizes, True
        if cached:
            # One reader first, as on a live server: a burst of first readers would all miss
            # what the page cache (or the kept downloads) keeps for the next one.
            fetch(f"{server.base}{path}", args.accept_encoding)
    else:
        sizes = measure_sizes(f"{server.base}{path}")
        slow = sizes.seconds > args.duration
    health = wrk(server, "/healthz", args.duration, args.connections, args.accept_encoding,
                 db_pids)
    if slow:
        run = burst(server, path, args.workers, args.accept_encoding, db_pids)
        if not (cached and run.latency_ms / 1000 < args.duration / 4):
            return run, health, sizes
    if cached:
        # Fill the cache of both workers: the steady state is what is measured.
        wrk(server, path, 1, args.connections, args.accept_encoding, db_pids)
    # A page of a second or so gets a longer run (up to MAX_RUN_SECONDS), so that some
    # requests complete even when 4 share 2 cores.
    seconds = min(MAX_RUN_SECONDS, max(args.duration, 8 * (0 if slow else sizes.seconds)))
    run = wrk(server, path, seconds, args.connections, args.accept_encoding, db_pids)
    return run, health, sizes


def bench_setting(url: str, cache_seconds: int, urls: list[tuple[str, str]], args,
                  known: dict[str, Row]) -> list[Row]:
    """Start gunicorn with one page-cache setting and measure every URL against /healthz."""
    env = portal_env(url, PORTAL_PAGE_CACHE_SECONDS=str(cache_seconds))
    rows = []
    with gunicorn(env, workers=args.workers, threads=args.threads) as server:
        db_pids = _database_pids(url)
        wrk(server, "/healthz", 2, args.connections, args.accept_encoding, db_pids)  # warm-up
        for label, path in urls:
            measured = []
            for _ in range(args.repeat):
                db_pids = _database_pids(url)  # the pool may have opened connections since
                run, health, sizes = measure_url(server, path, bool(cache_seconds),
                                                 known.get(path), args, db_pids)
                measured.append(Row(label, path, run, health, sizes))
                print(f"  {label}: {run.rate:,.2f} req/s = {_times(measured[-1].ratio)} "
                      f"/healthz ({health.rate:,.0f} req/s), {run.worker_cpu_ms:,.1f} ms CPU "
                      "per request" + (" (burst)" if run.burst else "")
                      + (" (one worker did almost nothing)" if run.lopsided or health.lopsided
                         else ""), flush=True)
            # The run of the median ratio (the middle one of an odd number of runs).
            middle = sorted(measured, key=lambda row: row.ratio)[(len(measured) - 1) // 2]
            middle.runs = tuple((row.ratio, row.cpu_ratio) for row in measured)
            rows.append(middle)
        memory = [memory_mb(pid) for pid in server.workers()]
    state = "off (PORTAL_PAGE_CACHE_SECONDS=0)" if not cache_seconds else (
        f"on (PORTAL_PAGE_CACHE_SECONDS={cache_seconds})")
    print_table(f"Page cache {state}", rows)
    print("\nworker memory now / peak: " + ", ".join(
        f"{now:,.0f} / {peak:,.0f} MB" for now, peak in memory))
    return rows


def main() -> None:
    """Measure every page and API GET against /healthz, page cache off and on."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--cache", default="off,on", help="off, on or off,on")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--accept-encoding", default=BROWSER_ENCODINGS)
    parser.add_argument("--only", default="", help="measure only URLs whose label or path "
                        "contains this text (or one of several, comma-separated)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each URL (each after "
                        "its own /healthz run); the table shows the median ratio's run and "
                        "the range")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: install Debian's package (apt-get install -y wrk)")
    url = args.database_url
    host = urlparse(url.replace("+psycopg", "")).hostname
    if url.startswith("postgresql") and host not in LOOPBACK:
        raise SystemExit(f"refusing database host {host!r}: the bench only uses loopback")
    started = time.perf_counter()
    if url.startswith("postgresql"):
        vacuum(url)
    sample = sample_codes(url)
    wanted = args.only.split(",")
    urls = [(label, path) for label, path in page_urls(sample)
            if any(text in label or text in path for text in wanted)]
    print(f"service {sample.service} ({sample.service_requests:,} requests, moved), "
          f"department {sample.department} ({sample.department_services} services); "
          f"wrk -t1 -c{args.connections}, {args.duration:g} s a run, "
          f"Accept-Encoding: {args.accept_encoding}", flush=True)
    results: dict[str, list[Row]] = {}
    for setting in args.cache.split(","):
        print(f"\npage cache {setting}:", flush=True)
        known = {row.path: row for row in results.get("off", [])}
        results[setting] = bench_setting(url, 0 if setting == "off" else 60, urls, args, known)
    if "off" in results:
        slowest = sorted(results["off"], key=lambda row: row.run.rate)[:3]
        print("\nslowest with the cache off: " + "; ".join(
            f"{row.label} {row.run.rate:,.2f} req/s ({_times(row.ratio)})" for row in slowest))
    ratios = [row.ratio for rows in results.values() for row in rows]
    print(f"\nmedian ratio {_times(statistics.median(ratios))} over {len(ratios)} runs; "
          f"took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
