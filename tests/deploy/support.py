"""Helpers of the deployment tests: Debian's tools, the nginx site made runnable in a folder.

The tools come from Debian's packages (systemd, nginx, openssl); without one a test is
skipped with the reason, unless PORTAL_REQUIRE_DEPLOY_TOOLS=1 (set by CI) makes that a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
SITE = DEPLOY / "nginx" / "pantau.conf"
ENVIRONMENT_TEMPLATE = DEPLOY / "portal.env"
# Where the files expect the repository and its static folder on the server.
INSTALLED_ROOT = "/srv/pantau"
REQUIRED = os.environ.get("PORTAL_REQUIRE_DEPLOY_TOOLS") == "1"


def deploy_tool(name: str, package: str) -> str:
    """Return the path of a Debian tool; skip (or fail under CI) when it is not installed."""
    # /usr/sbin is not on every user's PATH, and nginx lives there.
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found:
        return found
    reason = f"{name} is not installed (apt-get install {package})"
    if REQUIRED:
        pytest.fail(f"{reason}; PORTAL_REQUIRE_DEPLOY_TOOLS=1 makes this a failure")
    pytest.skip(reason)


def replace_each(text: str, replacements: dict[str, str]) -> str:
    """Replace every key by its value, failing when a key is not in the text at all."""
    for old, new in replacements.items():
        assert old in text, f"{old!r} is no longer in the file: update the deployment tests"
        text = text.replace(old, new)
    return text


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """Make a certificate and key for 127.0.0.1 with openssl; return their paths."""
    openssl = deploy_tool("openssl", "openssl")
    certificate, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
         "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(certificate)],
        check=True, capture_output=True,
    )
    return certificate, key


def runnable_site(folder: Path, *, https_port: int, http_port: int, app_address: str) -> Path:
    """Write nginx's main configuration around the shipped site, runnable in folder.

    Only what ties the site to a server changes: ports (on loopback), certificate, log folder
    and the repository's place; every other line is the shipped one. The main configuration
    repeats what Debian's /etc/nginx/nginx.conf sets around a site (gzip on included).
    """
    certificate, key = self_signed_certificate(folder)
    for name in ("logs", "temp", "acme"):
        (folder / name).mkdir(exist_ok=True)
    site = replace_each(SITE.read_text(), {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;\n": "",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;\n": "",
        "server 127.0.0.1:8000;": f"server {app_address};",
        "/etc/letsencrypt/live/pantau.example.go.id/fullchain.pem": str(certificate),
        "/etc/letsencrypt/live/pantau.example.go.id/privkey.pem": str(key),
        "/var/log/nginx/": f"{folder / 'logs'}/",
        "root /var/www/html;": f"root {folder / 'acme'};",
        f"{INSTALLED_ROOT}/static/": f"{ROOT / 'static'}/",
    })
    (folder / "site.conf").write_text(site)
    # A master running as root hands requests to workers of the "nobody" user by default,
    # which cannot enter pytest's private temporary folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = folder / "temp"
    main = f"""{user}worker_processes 1;
pid {folder / 'nginx.pid'};
error_log {folder / 'logs' / 'main-error.log'} warn;
events {{ worker_connections 64; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    gzip on;
    client_body_temp_path {temp / 'body'};
    proxy_temp_path {temp / 'proxy'};
    fastcgi_temp_path {temp / 'fastcgi'};
    uwsgi_temp_path {temp / 'uwsgi'};
    scgi_temp_path {temp / 'scgi'};
    include {folder / 'site.conf'};
}}
"""
    path = folder / "nginx.conf"
    path.write_text(main)
    return path


def nginx_command(nginx: str, configuration: Path, *args: str) -> list[str]:
    """Return an nginx command line that reads and writes only inside the test's folder."""
    folder = configuration.parent
    return [nginx, "-p", str(folder), "-c", str(configuration),
            "-e", str(folder / "logs" / "main-error.log"), *args]


def code_settings(environment: dict[str, str]) -> dict[str, str]:
    """Return every setting of portal/config.py and gunicorn.conf.py under an environment.

    Read in a fresh interpreter that sees only that environment (and PATH), so the test
    run's own variables change nothing.
    """
    script = (
        "import json, runpy\n"
        "from portal.config import Config\n"
        "settings = {k: repr(getattr(Config, k)) for k in dir(Config) if k.isupper()}\n"
        "gunicorn = runpy.run_path('gunicorn.conf.py')\n"
        "settings.update({f'gunicorn.{k}': repr(v) for k, v in gunicorn.items()\n"
        "                 if not k.startswith('_') and isinstance(v, (str, int, float))})\n"
        "print(json.dumps(settings))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **environment},
    )
    return json.loads(result.stdout)
