"""Revision 0007: codes stored before keep working, found by their lookup key."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.extensions import db
from tests.conftest import fresh_database_url, make_test_config
from tests.migrations.test_migrations import _insert


def test_upgrade_gives_stored_codes_their_key_and_keeps_a_clash_findable(tmp_path):
    app = create_app(make_test_config(
        SQLALCHEMY_DATABASE_URI=fresh_database_url("keys", tmp_path)))
    with app.app_context():
        upgrade(revision="0006")
        with db.engine.begin() as connection:
            # Old alphabet: both S and 5 existed, so two old codes may share a key.
            for row_id, code in ((1, "SPP9T39M3DKZ"), (2, "5PP9T39M3DK2"), (3, "K7QM3TXV9PHD")):
                _insert(connection, "feedback", id=row_id, tracking_code=code, kind="question",
                        subject="s", body="b", status="submitted", routing_rule="triage",
                        lang="id")
        upgrade(revision="0007")
        with db.engine.connect() as connection:
            keys = dict(connection.execute(sa.text(
                "SELECT tracking_code, tracking_key FROM feedback ORDER BY id")).all())
        assert keys == {"SPP9T39M3DKZ": "5PP9T39M30K2", "5PP9T39M3DK2": "~5PP9T39M3DK2",
                        "K7QM3TXV9PHD": "K7QM3TXV9PH0"}

        from portal.services.feedback.citizen import feedback_get

        assert feedback_get("spp9-t39m-3dkz").id == 1
        assert feedback_get("5PP9-T39M-3DK2").id == 2  # its own spelling wins
        assert feedback_get("K7QM-3TXV-9PH0").id == 3  # D read as 0
        # End the session's transaction: on PostgreSQL it holds a lock on feedback that the
        # downgrade's ALTER TABLE would wait for, forever.
        db.session.remove()
        downgrade(revision="0006")
        upgrade()
        db.engine.dispose()
