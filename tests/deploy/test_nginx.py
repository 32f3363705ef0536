"""The real nginx, with the shipped site, in front of the real gunicorn, on loopback.

Only what ties the site to a server is changed (ports, certificate, folders: see
runnable_site); gunicorn runs the portal as deploy/portal.env configures it behind one proxy.
Clients connect from several loopback addresses (127.0.0.2, 127.0.0.3...) to tell whose
requests the portal counts.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal.web.security_headers import security_headers
from tests.conftest import ROOT, free_port, fresh_database_url, run_flask, serve_live
from tests.deploy.support import deploy_tool, nginx_command, runnable_site

CATALOGUE = (
    "department_code,department_name_id,department_name_en,service_code,service_name_id,"
    "service_name_en,work_mode,work_mode_since,commitment_value,commitment_unit,"
    "on_time_target,online_url\n"
    "dpmptsp,Dinas Penanaman Modal dan PTSP,One-Stop Investment Office,izin-usaha,"
    "Izin Usaha Mikro,Micro Business Licence,wfa,2025-06-02,5,working_days,0.9,\n"
)
MEBIBYTE = 1024 * 1024


@dataclass
class Proxied:
    """The portal behind nginx: where to reach it, and nginx's folder (logs, certificate)."""

    https_port: int
    http_port: int
    folder: Path
    context: ssl.SSLContext

    def request(self, path: str, *, method: str = "GET", headers: dict | None = None,
                body: bytes | None = None, source: str = "127.0.0.1"
                ) -> tuple[http.client.HTTPResponse, bytes]:
        """Send one HTTPS request from a loopback address; return the response and body."""
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.https_port, context=self.context, timeout=30,
            source_address=(source, 0))
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response, response.read()
        finally:
            connection.close()


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    """Wait until nginx accepts connections, failing with its log if it stops."""
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"nginx did not start: {log.read_text()}") from None
            time.sleep(0.1)


@pytest.fixture(scope="module")
def proxied(tmp_path_factory) -> Iterator[Proxied]:
    """gunicorn serving a one-service catalogue, nginx with the shipped site in front."""
    nginx = deploy_tool("nginx", "nginx")
    folder = tmp_path_factory.mktemp("nginx")
    url = fresh_database_url("nginx", folder)
    environment = {"DATABASE_URL": url, "SECRET_KEY": "nginx-test"}
    run_flask({**os.environ, **environment}, "db", "upgrade")
    (folder / "catalogue.csv").write_text(CATALOGUE)
    run_flask({**os.environ, **environment}, "catalogue", "import",
              str(folder / "catalogue.csv"))
    # As deploy/portal.env sets it, with limits small enough to reach; counters in memory
    # (one worker), not in a Redis other tests share.
    server = serve_live(url, PORTAL_TRUSTED_PROXIES="1", PORTAL_SECURE_COOKIES="1",
                        REDIS_URL="", PORTAL_FEEDBACK_RATE_LIMIT="2 per hour",
                        SECRET_KEY="nginx-test")
    base = next(server)
    https_port, http_port = free_port(), free_port()
    configuration = runnable_site(folder, https_port=https_port, http_port=http_port,
                                  app_address=base.removeprefix("http://"))
    process = subprocess.Popen(nginx_command(nginx, configuration, "-g", "daemon off;"),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(https_port, process, folder / "logs" / "main-error.log")
        context = ssl.create_default_context(cafile=str(folder / "cert.pem"))
        yield Proxied(https_port, http_port, folder, context)
    finally:
        process.terminate()
        process.wait(timeout=10)
        next(server, None)


SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                    "X-Frame-Options", "Strict-Transport-Security", "Permissions-Policy",
                    "Cross-Origin-Opener-Policy", "Cross-Origin-Resource-Policy")


def _security_headers(response: http.client.HTTPResponse) -> dict[str, list[str]]:
    """Return every security header of a response with all its values."""
    return {name: response.headers.get_all(name) for name in SECURITY_HEADERS
            if response.headers.get_all(name)}


def test_a_page_comes_through_with_each_security_header_once_and_http2_is_offered(proxied):
    response, body = proxied.request("/en/services")

    assert response.status == 200
    assert "Micro Business Licence" in body.decode()
    headers = _security_headers(response)
    assert {"Content-Security-Policy", "Strict-Transport-Security"} <= set(headers)
    assert all(len(values) == 1 for values in headers.values()), headers
    context = ssl.create_default_context(cafile=str(proxied.folder / "cert.pem"))
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", proxied.https_port)) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        assert tls.selected_alpn_protocol() == "h2"


def test_a_static_file_comes_from_the_repository_cached_for_a_year_with_the_page_headers(
        proxied):
    page, html = proxied.request("/en/")
    path = re.search(r"/static/[0-9a-f]{12}/css/portal\.css", html.decode()).group(0)
    on_disk = (ROOT / "static" / "css" / "portal.css").read_bytes()

    plain, body = proxied.request(path, headers={"Accept-Encoding": "identity"})
    packed, compressed = proxied.request(path, headers={"Accept-Encoding": "gzip"})

    assert plain.status == 200
    assert body == on_disk
    assert plain.getheader("Content-Type").startswith("text/css")
    cache = plain.getheader("Cache-Control")
    assert "max-age=31536000" in cache and "immutable" in cache
    # The static files carry exactly the security headers the application gives its pages,
    # the whole set (portal/web/security_headers.py), each once.
    expected = {name: [value] for name, value in security_headers(https=True).items()}
    assert _security_headers(page) == expected
    assert _security_headers(plain) == expected
    assert packed.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(compressed) == on_disk
    missing, _ = proxied.request("/static/0123456789ab/css/none.css")
    assert missing.status == 404


def _decoded(response: http.client.HTTPResponse, body: bytes) -> bytes:
    """Return a body as sent before any compression (gzip at most once)."""
    return gzip.decompress(body) if response.getheader("Content-Encoding") == "gzip" else body


def test_an_api_answer_and_a_page_come_through_compressed_at_most_once(proxied):
    api, answer = proxied.request("/api/v1/services?lang=en", headers={"Accept-Encoding": "gzip"})
    page, html = proxied.request("/en/services", headers={"Accept-Encoding": "gzip"})

    assert api.status == 200
    assert [service["code"] for service in json.loads(_decoded(api, answer))["services"]] \
        == ["izin-usaha"]
    # A page is large enough for the application to compress it; nginx adds nothing to that.
    assert page.getheader("Content-Encoding") == "gzip"
    assert "Micro Business Licence" in gzip.decompress(html).decode()
    for response in (api, page):
        assert len(response.headers.get_all("Vary") or []) <= 1
        assert len(response.headers.get_all("Content-Encoding") or []) <= 1


def _file_feedback(proxied: Proxied, source: str, **headers: str) -> int:
    """Send an (empty, refused) feedback to the API from an address; return the status."""
    response, _ = proxied.request(
        "/api/v1/feedback", method="POST", body=b"{}", source=source,
        headers={"Content-Type": "application/json", **headers})
    return response.status


def test_the_portal_counts_each_client_by_the_address_nginx_saw(proxied):
    # The feedback limit is 2 an hour per client address here.
    first = [_file_feedback(proxied, "127.0.0.2") for _ in range(2)]
    third = _file_feedback(proxied, "127.0.0.2")
    # Claiming another address changes nothing: nginx replaces what the client says.
    spoofed = _file_feedback(proxied, "127.0.0.2", **{"X-Forwarded-For": "198.51.100.7"})
    # ... and another client is counted as itself, even when it claims to be the first.
    other = _file_feedback(proxied, "127.0.0.3", **{"X-Forwarded-For": "127.0.0.2"})

    assert 429 not in first and all(400 <= status < 500 for status in first)
    assert third == 429
    assert spoofed == 429
    assert other != 429


def test_plain_http_is_sent_to_https(proxied):
    connection = http.client.HTTPConnection("127.0.0.1", proxied.http_port, timeout=10)
    connection.request("GET", "/en/services?department=dpmptsp",
                       headers={"Host": "pantau.example.go.id"})
    response = connection.getresponse()

    assert response.status == 301
    assert response.getheader("Location") == (
        "https://pantau.example.go.id/en/services?department=dpmptsp")


def test_a_body_as_large_as_the_app_takes_passes_and_a_larger_one_is_refused_by_nginx(proxied):
    limit = 16 * MEBIBYTE  # PORTAL_MAX_CONTENT_LENGTH's default
    at_limit, answer = proxied.request(
        "/api/v1/feedback", method="POST", body=b" " * limit, source="127.0.0.4",
        headers={"Content-Type": "application/json"})
    # One byte more: nginx answers as soon as it reads the length, before any body.
    connection = http.client.HTTPSConnection("127.0.0.1", proxied.https_port,
                                             context=proxied.context, timeout=30,
                                             source_address=("127.0.0.4", 0))
    connection.putrequest("POST", "/api/v1/feedback")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(limit + 1))
    connection.endheaders()
    beyond = connection.getresponse()
    beyond_body = beyond.read()
    connection.close()

    # The portal itself read the whole body and found no JSON object in it.
    assert at_limit.status == 400
    assert at_limit.getheader("Content-Type") == "application/problem+json"
    assert beyond.status == 413
    assert beyond.getheader("Content-Type") == "text/html"
    assert b"nginx" in beyond_body


def test_nginx_logs_neither_the_client_address_nor_a_tracking_code(proxied):
    for path in ("/en/track/W4Q3-ZQVA-JHX5", "/api/v1/feedback/W4Q3ZQVAJHX5",
                 "/en/track?code=W4Q3-ZQVA-JHX5", "/en/feedback/W4Q3-ZQVA-JHX5"):
        proxied.request(path, source="127.0.0.5")
    proxied.request("/static/0123456789ab/css/none.css", source="127.0.0.5")

    logs = {path.name: path.read_text() for path in (proxied.folder / "logs").iterdir()
            if path.name.startswith("pantau-")}

    assert logs["pantau-access.log"].count("\n") >= 5
    for name, text in logs.items():
        assert "127.0.0.5" not in text, name
        assert not re.search(r"w4q3", text, re.I), name


def test_the_request_id_nginx_logs_is_the_one_the_portal_answers_with(proxied):
    response, _ = proxied.request("/en/services", source="127.0.0.6")

    request_id = response.getheader("X-Request-ID")
    assert re.fullmatch(r"[0-9a-f]{32}", request_id or ""), request_id  # nginx's $request_id
    # nginx writes the access line in its log phase, after the answer has left: wait for it.
    log_file = proxied.folder / "logs" / "pantau-access.log"
    deadline = time.monotonic() + 10
    while True:
        logged = [line for line in log_file.read_text().splitlines()
                  if line.endswith(f" {request_id}")]
        if logged or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert logged
