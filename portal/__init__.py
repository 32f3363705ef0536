"""Pantau Layanan: the public transparency portal of the provincial government."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from whitenoise import WhiteNoise

from portal import i18n, models  # noqa: F401  (registers the tables)
from portal.config import BASE_DIR, Config, local_secret_key
from portal.extensions import (
    compress,
    csrf,
    db,
    end_reads_with_commit,
    limiter,
    login_manager,
    migrate,
)
from portal.web import formatting, init_views
from portal.web.cors import init_cors
from portal.web.json_provider import SafeJSONProvider
from portal.web.security_headers import SecurityHeaders

STATIC_DIR = BASE_DIR / "static"


def _static_fingerprint(root: Path) -> str:
    """Hash every static file so that any change gives new URLs (cache busting)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _serve_static(app: Flask) -> None:
    """Serve static/ with WhiteNoise under a fingerprinted, far-future-cached prefix."""
    fingerprint = _static_fingerprint(STATIC_DIR)
    prefix = f"static/{fingerprint}/"
    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(STATIC_DIR),
        prefix=prefix,
        max_age=365 * 24 * 3600,
        immutable_file_test=lambda path, url: True,
    )

    def static_url(filename: str) -> str:
        """Return the cache-busting URL of a static file."""
        return f"/{prefix}{filename}"

    app.jinja_env.globals["static_url"] = static_url


def create_app(config: dict[str, Any] | type | None = None) -> Flask:
    """Create and configure the portal application."""
    app = Flask(__name__, static_folder=None, instance_relative_config=False)
    app.json = SafeJSONProvider(app)
    app.config.from_object(Config)
    if isinstance(config, type):
        app.config.from_object(config)
    elif config:
        app.config.update(config)

    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = local_secret_key()
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:///:memory:"):
        os.makedirs(os.path.dirname(uri.removeprefix("sqlite:///")) or ".", exist_ok=True)

    db.init_app(app)
    end_reads_with_commit(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    csrf.init_app(app)
    # current_user reaches templates lazily (portal.web.staff), not loaded for every page.
    login_manager.init_app(app, add_context_processor=False)
    limiter.init_app(app)
    compress.init_app(app)
    i18n.init_app(app)
    formatting.init_app(app)

    # Imported when an app is built, not at the top (no cycle; cost): every import of a portal
    # module runs this file first, and the commands import every service, so a domain rule or
    # a migration would load the whole application.
    from portal.cli import init_cli

    # The same, and prometheus-client, imported by the operations package, chooses between
    # per-process and multiprocess storage when first imported: the gunicorn master imports
    # this package (for its logger class) before gunicorn.conf.py's on_starting has set
    # PROMETHEUS_MULTIPROC_DIR, and builds no app; the workers build it afterwards.
    from portal.web.ops import init_ops

    init_views(app)
    init_cors(app)
    init_cli(app)
    _serve_static(app)
    # Around WhiteNoise too: static files carry the pages' security headers.
    app.wsgi_app = SecurityHeaders(app.wsgi_app, app)  # type: ignore[method-assign]
    init_ops(app)  # around the static files too: every request is logged and counted
    proxies = int(app.config.get("PORTAL_TRUSTED_PROXIES") or 0)
    if proxies:
        # Only then is X-Forwarded-For the client address (rate limits key on it).
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies
        )
    return app
