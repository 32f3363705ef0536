"""Flask extensions, created unbound and bound to the app in create_app()."""

import logging
import re
import threading
from collections import OrderedDict
from typing import Any

from flask import Flask, Response, current_app, g, has_app_context, request
from flask_babel import Babel
from flask_compress import Compress
from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import Engine, MetaData, event
from sqlalchemy.orm import DeclarativeBase, Session


class Base(DeclarativeBase):
    """Declarative base with constraint names Alembic can rely on across databases."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
# The methods that never write (a GET writes nothing: tests/ops/test_read_paths.py).
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# A statement that changes data or schema (what tests/ops/test_read_paths.py also looks for).
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|MERGE|CREATE|ALTER|DROP|TRUNCATE)\b", re.I)


def _note_writes(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if not conn.info.get("portal_wrote") and _WRITE.match(statement):
        conn.info["portal_wrote"] = True


def _forget_writes(conn: Any) -> None:
    conn.info.pop("portal_wrote", None)


def end_reads_with_commit(app: Flask) -> None:
    """End the transaction of a read that went well with COMMIT instead of ROLLBACK.

    The session's transaction ends when the request's app context does; Flask-SQLAlchemy ends
    it with ROLLBACK, and psycopg answers every ROLLBACK by deallocating the connection's
    prepared statements: the database then planned every statement of every page again, about
    half of a page's database CPU at province scale. A request of a read method that raised
    nothing and ran no statement that writes (every connection notes one when it runs it)
    changed nothing, so committing it is the same as rolling it back, and keeps what psycopg
    prepared. Every other request ends as before, with ROLLBACK.
    """
    if not event.contains(Engine, "before_cursor_execute", _note_writes):
        event.listen(Engine, "before_cursor_execute", _note_writes)
        event.listen(Engine, "begin", _forget_writes)
        event.listen(Session, "after_begin", _note_connection)

    @app.before_request
    def _mark_read() -> None:
        g.portal_read_request = request.method in READ_METHODS

    @app.teardown_appcontext
    def _commit_read(exc: BaseException | None) -> None:
        # Registered after Flask-SQLAlchemy's teardown, so it runs before the session's removal.
        if exc is not None or not g.pop("portal_read_request", False):
            return
        if not db.session.registry.has():
            return
        session = db.session()
        # The connection the request's transaction began on; None when it never reached the
        # database (or could not: a database that is down is not asked again here).
        connection = session.info.pop("portal_connection", None)
        if (connection is None or not session.in_transaction()
                or session.new or session.dirty or session.deleted):
            return
        try:
            if connection.invalidated or connection.info.get("portal_wrote"):
                return
            session.commit()
        except Exception:  # the connection failed: the removal rolls back as before
            logging.getLogger(__name__).warning("read transaction not committed", exc_info=True)


def _note_connection(session: Session, _transaction: Any, connection: Any) -> None:
    session.info["portal_connection"] = connection


migrate = Migrate(render_as_batch=True, compare_type=True)
babel = Babel()
csrf = CSRFProtect()
cors = CORS()  # bound to the public reads only: portal.web.cors

# What is compressed when the client accepts it (zstd, br or gzip): pages, API answers, CSV
# exports, feeds and Open311's XML (text/xml). Static files never reach Flask: WhiteNoise
# serves them (and the .gz/.br copies beside them, where static/ holds any). XLSX, PDF and
# images are compressed already.
COMPRESSED_MIMETYPES = (
    "text/html", "application/json", "text/csv", "application/atom+xml", "text/plain",
    "application/xml", "text/xml", "image/svg+xml",
)
# The encodings offered, the server's preference first when a client accepts several equally.
# Streamed answers (the open-data CSVs) get the same ones: Flask-Compress leaves gzip out of its
# streaming default, so a client that accepts only gzip got a province's CSV uncompressed
# (1.3 MB instead of 55 KB); its gzip stream compressor is a zlib stream like deflate's.
COMPRESS_ALGORITHMS = ("zstd", "br", "gzip", "deflate")


class CompressedBodies:
    """The compressed bodies of answers that carry a strong ETag, per encoding, most recently
    used first, within MAX_BYTES (Flask-Compress's cache backend, one per process).

    Every strong ETag the portal sets is a digest of the body it goes with (the page cache,
    feeds, badges, API documents), so ETag and length name the bytes: a page served from the
    page cache is compressed once, not for every reader (the sitemap, 958 KB at 1,000
    services, cost 3 ms of CPU a request to compress). An answer without one is compressed
    each time and never kept (its key ends with the empty name, see compressed_body_key).
    """

    MAX_BYTES = 32 * 1024 * 1024

    def __init__(self) -> None:
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """Return the compressed body kept under a key, or None."""
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
            return body

    def clear(self) -> None:
        """Forget every body."""
        with self._lock:
            self._bodies.clear()
            self._bytes = 0

    def set(self, key: str, body: bytes) -> None:
        """Keep a compressed body, unless its answer had no strong ETag."""
        if key.endswith(";") or len(body) > self.MAX_BYTES // 8:
            return
        with self._lock:
            old = self._bodies.pop(key, None)
            self._bytes += len(body) - (len(old) if old is not None else 0)
            self._bodies[key] = body
            while self._bytes > self.MAX_BYTES:
                _key, dropped = self._bodies.popitem(last=False)
                self._bytes -= len(dropped)


def compressed_body_key(_request: Any) -> str:
    """Return the name of the answer being compressed: its strong ETag and length, or ""."""
    return g.get("portal_compressed_key", "")


class _Compress(Compress):
    """Flask-Compress, with the portal's media types and encodings unless the app sets others,
    and the compressed bodies of answers with a strong ETag kept (CompressedBodies)."""

    def init_app(self, app: Flask) -> None:
        """Bind to the app: compress COMPRESSED_MIMETYPES with COMPRESS_ALGORITHMS, streamed
        or not (COMPRESS_MIMETYPES, COMPRESS_ALGORITHM, COMPRESS_ALGORITHM_STREAMING override)."""
        app.config.setdefault("COMPRESS_MIMETYPES", list(COMPRESSED_MIMETYPES))
        app.config.setdefault("COMPRESS_ALGORITHM", list(COMPRESS_ALGORITHMS))
        app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", list(COMPRESS_ALGORITHMS))
        app.config.setdefault("COMPRESS_CACHE_BACKEND", CompressedBodies)
        app.config.setdefault("COMPRESS_CACHE_KEY", compressed_body_key)
        super().init_app(app)

    def after_request(self, response: Response) -> Response:
        """Compress the response, keeping every Vary value it had.

        Flask-Compress reads only the first Vary header and replaces them all: a second one
        (an API's Accept-Language beside another) would be lost, and shared caches would
        mix the variants. The values are joined into one header first.
        """
        lines = response.headers.getlist("Vary")
        if len(lines) > 1:
            values: dict[str, str] = {}
            for line in lines:
                for value in line.split(","):
                    values.setdefault(value.strip().lower(), value.strip())
            response.headers["Vary"] = ", ".join(v for v in values.values() if v)
        etag, weak = response.get_etag()
        g.portal_compressed_key = (
            f"{etag}:{response.content_length}"
            if etag and not weak and not response.is_streamed else "")
        return super().after_request(response)


# A strong ETag gets the encoding appended ("abc:gzip"), and the conditional request is
# evaluated again after compressing, so a revalidation still answers 304.
compress = _Compress()


class _LoginManager(LoginManager):
    """Flask-Login, minus its session read on responses to visitors without a session.

    That read (for "remember me" cookies, which the portal does not use) would add
    "Vary: Cookie" to every public page and spoil shared caching.
    """

    def _update_remember_cookie(self, response):
        if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
            return response
        return super()._update_remember_cookie(response)


login_manager = _LoginManager()
# Keyed by client address (X-Forwarded-For only behind PORTAL_TRUSTED_PROXIES, see
# create_app). Always "enabled" for Flask-Limiter, whose state is global to this object;
# PORTAL_RATELIMIT_ENABLED switches limits off per app through a request filter instead.
class _Limiter(Limiter):
    """Flask-Limiter, counting under the current app's RATELIMIT_KEY_PREFIX.

    Flask-Limiter keeps the prefix of the first app it is bound to, but this one object serves
    every app of the process (the tests build many): each app counts under its own prefix, so
    a test can start from fresh counters without clearing anybody else's.
    """

    @property
    def _key_prefix(self) -> str:
        return current_app.config.get("RATELIMIT_KEY_PREFIX", "") if has_app_context() else ""

    @_key_prefix.setter
    def _key_prefix(self, value: str) -> None:
        # Flask-Limiter's own assignments (constructor, init_app): the app's setting wins.
        pass


limiter = _Limiter(key_func=get_remote_address)


@limiter.request_filter
def _rate_limits_switched_off() -> bool:
    """Exempt every request when the app's PORTAL_RATELIMIT_ENABLED is false."""
    return not current_app.config.get("PORTAL_RATELIMIT_ENABLED", True)


def feedback_rate_limit() -> str:
    """Return the per-client limit on feedback writes (PORTAL_FEEDBACK_RATE_LIMIT).

    Shared by the feedback pages and the feedback API; each endpoint counts separately.
    """
    return current_app.config["PORTAL_FEEDBACK_RATE_LIMIT"]


def tracking_rate_limit() -> str:
    """Return the per-client limit on tracking-code look-ups (PORTAL_TRACKING_RATE_LIMIT)."""
    return current_app.config["PORTAL_TRACKING_RATE_LIMIT"]


def tracking_lookup_limit(**options: Any):
    """Limit a route that looks feedback up by its tracking code, per client address.

    Every such route (the tracking pages, the JSON API, Open311) counts against one shared
    limit, so guessing codes through several doors is no faster than through one.
    """
    return limiter.shared_limit(tracking_rate_limit, scope="tracking-code", **options)
