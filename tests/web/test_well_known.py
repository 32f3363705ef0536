"""/.well-known/security.txt (RFC 9116)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from portal.web.well_known import security_contacts, security_txt


def _fields(text: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        name, _, value = line.partition(": ")
        fields.setdefault(name, []).append(value)
    return fields


def test_security_txt_names_the_provinces_csirt_and_expires_within_a_year(client, app):
    response = client.get("/.well-known/security.txt")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    fields = _fields(response.get_data(as_text=True))
    assert fields["Contact"] == ["mailto:csirt@kalteng.go.id"]
    assert fields["Preferred-Languages"] == ["id, en"]
    assert fields["Canonical"] == [f"{app.config['PORTAL_BASE_URL']}/.well-known/security.txt"]
    # Every line is a field RFC 9116 knows (no stray text).
    assert set(fields) <= {"Contact", "Expires", "Preferred-Languages", "Canonical", "Policy",
                           "Encryption", "Acknowledgments", "Hiring"}
    (expires,) = fields["Expires"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", expires)
    ahead = datetime.fromisoformat(expires.replace("Z", "+00:00")) - datetime.now(UTC)
    assert timedelta(days=364) < ahead <= timedelta(days=365)


def test_the_expiry_is_computed_a_year_from_the_day_it_is_served(app):
    text = security_txt(now=datetime(2027, 3, 10, 15, 30, tzinfo=UTC))
    assert "Expires: 2028-03-09T00:00:00Z" in text


def test_the_contact_comes_from_the_environment(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_SECURITY_CONTACT",
                        "security@kalteng.go.id, https://csirt.example.go.id/report")
    fields = _fields(client.get("/.well-known/security.txt").get_data(as_text=True))
    assert fields["Contact"] == ["mailto:security@kalteng.go.id",
                                 "https://csirt.example.go.id/report"]
    assert security_contacts(" , ") == []
