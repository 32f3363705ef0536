"""Gunicorn settings, each from the environment with a default for a small server."""

import os

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
