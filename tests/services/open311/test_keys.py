"""Open311 keys: shown once, stored hashed, revocable, managed province-wide, audited."""

from __future__ import annotations

import hashlib

import pytest

from portal.extensions import db
from portal.models import AuditEntry, Open311Key
from portal.services.auth import CLI_OPERATOR
from portal.services.errors import NotAuthorized, NotFound, ValidationError
from portal.services.open311.keys import (
    open311_key_authenticate,
    open311_key_create,
    open311_key_list,
    open311_key_revoke,
)
from tests.factories import create_user


def test_a_new_key_is_shown_once_and_stored_only_as_its_hash(app):
    key, plaintext = open311_key_create("  Aplikasi   Lapor Kota ", actor=CLI_OPERATOR)
    stored = db.session.get(Open311Key, key.id)
    assert stored.name == "Aplikasi Lapor Kota"
    assert stored.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in {stored.name, stored.key_hash}
    assert len(plaintext) >= 40  # 32 random bytes, URL-safe, behind the prefix
    assert open311_key_authenticate(plaintext).id == key.id


def test_two_keys_are_never_the_same(app):
    first = open311_key_create("A", actor=CLI_OPERATOR)[1]
    second = open311_key_create("A", actor=CLI_OPERATOR)[1]
    assert first != second


@pytest.mark.parametrize("sent", [None, "", "o311_", "o311_not-a-key", "plk_anything",
                                  "o311_" + "x" * 300])
def test_anything_but_an_issued_key_is_refused(app, sent):
    open311_key_create("A", actor=CLI_OPERATOR)
    assert open311_key_authenticate(sent) is None


def test_a_revoked_key_is_refused_and_revoking_again_changes_nothing(app):
    key, plaintext = open311_key_create("A", actor=CLI_OPERATOR)
    revoked = open311_key_revoke(key.id, actor=CLI_OPERATOR)
    when = revoked.revoked_at
    assert when is not None
    assert open311_key_authenticate(plaintext) is None
    assert open311_key_revoke(key.id, actor=CLI_OPERATOR).revoked_at == when
    with pytest.raises(NotFound):
        open311_key_revoke(key.id + 100, actor=CLI_OPERATOR)


def test_using_a_key_records_when_it_was_last_used(app):
    key, plaintext = open311_key_create("A", actor=CLI_OPERATOR)
    assert key.last_used_at is None
    open311_key_authenticate(plaintext)
    assert db.session.get(Open311Key, key.id).last_used_at is not None


def test_the_list_holds_every_key_newest_first_revoked_ones_too(app):
    first = open311_key_create("Pertama", actor=CLI_OPERATOR)[0]
    second = open311_key_create("Kedua", actor=CLI_OPERATOR)[0]
    open311_key_revoke(first.id, actor=CLI_OPERATOR)
    assert [k.name for k in open311_key_list(actor=CLI_OPERATOR)] == ["Kedua", "Pertama"]
    assert second.is_active and not db.session.get(Open311Key, first.id).is_active


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_key_needs_a_name_of_reasonable_length(app, name):
    with pytest.raises(ValidationError):
        open311_key_create(name, actor=CLI_OPERATOR)
    assert db.session.query(Open311Key).count() == 0


@pytest.mark.parametrize("role, allowed", [
    ("admin", True), ("officer", False), ("triage", False), ("dprd", False),
])
def test_only_who_manages_tokens_for_every_department_manages_keys(app, role, allowed):
    actor = create_user(role)
    if allowed:
        key = open311_key_create("A", actor=actor)[0]
        assert open311_key_list(actor=actor)
        assert open311_key_revoke(key.id, actor=actor).revoked_at is not None
        return
    key = open311_key_create("A", actor=CLI_OPERATOR)[0]
    for attempt in (lambda: open311_key_create("B", actor=actor),
                    lambda: open311_key_list(actor=actor),
                    lambda: open311_key_revoke(key.id, actor=actor)):
        with pytest.raises(NotAuthorized):
            attempt()
    assert db.session.get(Open311Key, key.id).is_active
    assert db.session.query(Open311Key).count() == 1


def test_creating_and_revoking_are_audited_without_the_key(app):
    admin = create_user("admin")
    key, plaintext = open311_key_create("Aplikasi Lapor Kota", actor=admin)
    open311_key_revoke(key.id, actor=admin)
    entries = db.session.query(AuditEntry).order_by(AuditEntry.id).all()
    assert [(e.action, e.object_id, e.actor_username, e.to_state) for e in entries] == [
        ("open311.key_create", str(key.id), admin.username, "active"),
        ("open311.key_revoke", str(key.id), admin.username, "revoked"),
    ]
    assert all(plaintext not in (e.detail or "") for e in entries)
