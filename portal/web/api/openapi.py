"""The OpenAPI 3.1 description of the portal's APIs, served as /api/v1/openapi.json.

It is kept in the repository as YAML beside each API (``api/openapi.yaml``, and
``open311/openapi.yaml`` for Open311 GeoReport v2 when present): readable, commented and
reviewed with the code. The two are merged here, once per process, and the portal's public
address (PORTAL_BASE_URL) is added as the server.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import yaml
from flask import current_app, request

from portal.web.api.blueprint import bp
from portal.web.urls import base_url

WEB_DIR = Path(__file__).resolve().parent.parent
API_DOCUMENT = WEB_DIR / "api" / "openapi.yaml"
# Written by the Open311 API; merged in when it exists.
OPEN311_DOCUMENT = WEB_DIR / "open311" / "openapi.yaml"


def _load(path: Path) -> dict[str, Any]:
    """Read one YAML document (safe: plain data only)."""
    with path.open(encoding="utf-8") as stream:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(stream, Loader=loader)


def merge_documents(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Return base with the paths, components and tags of extra added.

    Raises ValueError when both describe the same path, or give one component name two
    different definitions: one of them would silently be wrong.
    """
    merged = copy.deepcopy(base)
    for path, item in extra.get("paths", {}).items():
        if path in merged.setdefault("paths", {}):
            raise ValueError(f"both OpenAPI documents describe {path}")
        merged["paths"][path] = item
    for section, entries in extra.get("components", {}).items():
        target = merged.setdefault("components", {}).setdefault(section, {})
        for name, definition in entries.items():
            if name in target and target[name] != definition:
                raise ValueError(f"components/{section}/{name} differs between the documents")
            target[name] = definition
    names = {tag["name"] for tag in merged.get("tags", [])}
    merged.setdefault("tags", []).extend(
        tag for tag in extra.get("tags", []) if tag["name"] not in names)
    return merged


def openapi_document() -> dict[str, Any]:
    """Return the merged description of /api/v1 (and /open311/v2 when present)."""
    document = _load(API_DOCUMENT)
    if OPEN311_DOCUMENT.exists():
        document = merge_documents(document, _load(OPEN311_DOCUMENT))
    return document


@functools.cache
def _served_body(server: str) -> bytes:
    """Return the served JSON for one public address, built once per process."""
    document = openapi_document()
    document["servers"] = [{"url": server, "description": "This portal"}]
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


@bp.get("/openapi.json")
def openapi_json():
    """Serve the OpenAPI 3.1 description of the portal's APIs (JSON)."""
    response = current_app.response_class(_served_body(base_url()),
                                          mimetype="application/json")
    response.add_etag()
    return response.make_conditional(request)
