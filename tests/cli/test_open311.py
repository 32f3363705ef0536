"""`flask open311 keys create|list|revoke`: the keys Open311 applications file requests with."""

from __future__ import annotations

import re

from portal.extensions import db
from portal.models import AuditEntry, Open311Key
from portal.services.open311.keys import open311_key_authenticate


def test_create_prints_the_key_once_and_it_works(runner, app):
    result = runner.invoke(args=["open311", "keys", "create", "Aplikasi Lapor Kota"])
    assert result.exit_code == 0, result.output
    match = re.search(r"^key (\d+) for Aplikasi Lapor Kota: (o311_\S+)$", result.stdout, re.M)
    assert match, result.output
    key = open311_key_authenticate(match.group(2))
    assert key is not None and key.id == int(match.group(1))


def test_list_shows_keys_without_their_values_and_revoke_stops_one(runner, app):
    created = runner.invoke(args=["open311", "keys", "create", "Aplikasi A"]).stdout
    plaintext = created.split(": ", 1)[1].strip()
    key_id = db.session.query(Open311Key).one().id

    listing = runner.invoke(args=["open311", "keys", "list"])
    assert listing.exit_code == 0
    assert re.search(rf"^{key_id}\tactive\tcreated .+ WIB\tlast used -\tAplikasi A$",
                     listing.output, re.M), listing.output
    assert plaintext not in listing.output

    revoked = runner.invoke(args=["open311", "keys", "revoke", str(key_id)])
    assert revoked.exit_code == 0, revoked.output
    assert open311_key_authenticate(plaintext) is None
    assert "\trevoked " in runner.invoke(args=["open311", "keys", "list"]).output
    actions = [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
    assert actions == ["open311.key_create", "open311.key_revoke"]


def test_revoking_an_unknown_key_fails_and_an_empty_name_is_refused(runner, app):
    unknown = runner.invoke(args=["open311", "keys", "revoke", "999"])
    assert unknown.exit_code == 1
    assert "no key 999" in unknown.output
    empty = runner.invoke(args=["open311", "keys", "create", "  "])
    assert empty.exit_code == 1
    assert db.session.query(Open311Key).count() == 0
