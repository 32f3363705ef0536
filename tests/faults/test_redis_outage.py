"""Redis, where rate limits are counted, goes down and comes back.

Gunicorn serves the portal with a Redis of the test's own; Redis is killed, then started
again on the same port. Requests are answered throughout (never a 500); while Redis is away
the limits are counted in the worker's memory (they still hold, per process), one warning is
logged, and /readyz says so; once Redis is back, counting returns to it.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
import redis

from tests.faults.support import PrivateRedis
from tests.ops.support import fetch, start_gunicorn

LIMIT = 3  # feedback posts a minute per address, for this test


@pytest.fixture
def redis_server():
    """A Redis of the test's own, running."""
    server = PrivateRedis()
    server.start()
    yield server
    server.kill()


@pytest.fixture
def server(redis_server, tmp_path):
    """Gunicorn (one worker) counting rate limits in the private Redis."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}",
           "SECRET_KEY": "faults", "REDIS_URL": redis_server.url,
           "PORTAL_FEEDBACK_RATE_LIMIT": f"{LIMIT} per minute",
           "PORTAL_RATELIMIT_ENABLED": "1", "PORTAL_UPLOAD_DIR": str(tmp_path / "uploads")}
    running = start_gunicorn(env, workers=1, threads=2)
    yield running
    running.process.send_signal(signal.SIGINT)  # quick shutdown: no request is waited for
    running.stop()


def _post(server) -> int:
    """Send a feedback the API refuses (not JSON): counted by the limit, stores nothing."""
    status, _body, _headers = fetch(f"{server.base}/api/v1/feedback", data=b"not json",
                                    method="POST", headers={"Content-Type": "text/plain"})
    return status


def _readiness(server) -> dict:
    _status, body, _headers = fetch(f"{server.base}/readyz")
    return json.loads(body)["checks"]


def _fallback_warnings(server) -> list[dict]:
    return [line for line in server.log_lines()
            if "storage unreachable" in line.get("message", "")]


def test_limits_fall_back_to_memory_say_so_and_return_to_redis(server, redis_server):
    # Counted in Redis: the limit holds, and Redis holds the counter.
    assert [_post(server) for _ in range(LIMIT + 1)] == [400] * LIMIT + [429]
    counters = redis.Redis.from_url(redis_server.url)
    assert any(b"feedback" in key for key in counters.keys("*"))
    assert _readiness(server)["rate_limits"]["fell_back"] is False

    redis_server.kill()
    # Answered, never a 500; counted in memory from zero, and the limit still holds.
    assert [_post(server) for _ in range(LIMIT + 1)] == [400] * LIMIT + [429]
    assert len(_fallback_warnings(server)) == 1  # once per outage, not per request
    checks = _readiness(server)
    assert checks["redis"]["ok"] is False
    assert checks["rate_limits"] == {"ok": False, "storage": "memory", "configured": "redis",
                                     "fell_back": True}

    redis_server.start()  # the same port, empty
    # Flask-Limiter tries the storage again at a request after a back-off (1, 2, 4... s);
    # /readyz requests count too, so a server taken out of service still comes back.
    deadline = time.monotonic() + 15
    while _readiness(server)["rate_limits"]["fell_back"]:
        assert time.monotonic() < deadline, "rate limits never returned to Redis"
        time.sleep(0.5)
    checks = _readiness(server)
    assert checks["redis"] == {"ok": True, "configured": True}
    assert checks["rate_limits"]["ok"] is True
    # Counted in Redis again (the restarted Redis is empty: the count starts again).
    assert _post(server) == 400
    assert any(b"feedback" in key for key in counters.keys("*"))
    assert len(_fallback_warnings(server)) == 1
