"""Gunicorn settings, each from the environment with a default for a small server."""

import glob
import os
import shutil
import tempfile

# Address to listen on.
bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
# Worker processes: about one per core.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads per worker (gthread): readers on slow networks must not block a whole worker.
threads = int(os.environ.get("PORTAL_THREADS", "4"))
worker_class = "gthread" if threads > 1 else "sync"
# Seconds before a silent worker is restarted.
timeout = int(os.environ.get("PORTAL_TIMEOUT", "30"))
# Keep idle client connections open this long (seconds).
keepalive = int(os.environ.get("PORTAL_KEEPALIVE", "5"))
accesslog = os.environ.get("PORTAL_ACCESS_LOG", "-")
errorlog = "-"
# Log lines carry neither the client address nor the query string: a path may hold a
# feedback tracking code, and an address beside it would tie an anonymous reporter to it.
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(L)ss'
# ... and tracking codes in paths are masked by the logger itself.
logger_class = "portal.web.access_log.PrivacyLogger"


# Metrics (/metrics): prometheus-client counts each worker's requests in files in
# PROMETHEUS_MULTIPROC_DIR and adds them up at each scrape. Set before any worker starts: a
# fresh folder of this server's own, or the one configured, emptied of a previous run's files.
_metrics_dir_created = ""


def on_starting(server):
    """Give the workers an empty folder for their metrics files."""
    global _metrics_dir_created
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        directory = _metrics_dir_created = tempfile.mkdtemp(prefix="portal-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    os.makedirs(directory, exist_ok=True)
    for leftover in glob.glob(os.path.join(directory, "*.db")):
        os.remove(leftover)


def post_worker_init(worker):
    """Move the loaded application out of the garbage collector's reach (gc.freeze): its
    hundreds of thousands of long-lived objects were walked again by every full collection
    (about 10% of a worker's CPU while storing reports, bench/README.md)."""
    import gc

    gc.freeze()


def child_exit(server, worker):
    """Drop a finished worker's live gauges (its counters stay in the totals)."""
    # Imported here, after on_starting: prometheus-client picks its storage when imported.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics folder this server created."""
    if _metrics_dir_created:
        shutil.rmtree(_metrics_dir_created, ignore_errors=True)
