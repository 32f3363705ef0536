"""Revision 0010: rules and integrity phrases stored before route exactly as they did."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.extensions import db
from portal.services.auth import CLI_OPERATOR
from portal.services.feedback.routing import routing_decide, routing_rule_list
from tests.conftest import fresh_database_url, make_test_config
from tests.migrations.test_migrations import _insert


def test_upgrade_stores_the_normal_form_that_matching_and_the_list_use(tmp_path):
    app = create_app(make_test_config(
        SQLALCHEMY_DATABASE_URI=fresh_database_url("phrases", tmp_path)))
    with app.app_context():
        upgrade(revision="0009")
        with db.engine.begin() as connection:
            for code in ("dinkes", "dlh"):
                _insert(connection, "department", code=code)
            ids = dict(connection.execute(sa.text("SELECT code, id FROM department")).all())
            # Longest as typed, shortest in normal form: the list once ranked it in Python.
            _insert(connection, "routing_rule", id=1, department_id=ids["dinkes"],
                    phrase="Sampah!!!!!!!!!!", priority=0)
            _insert(connection, "routing_rule", id=2, department_id=ids["dlh"],
                    phrase="sampah pasar", priority=0)
            _insert(connection, "integrity_phrase", id=1, phrase="Uang  Pelicín")
        upgrade(revision="0010")
        with db.engine.connect() as connection:
            stored = connection.execute(sa.text(
                "SELECT id, normalised FROM routing_rule ORDER BY id")).all()
            phrase = connection.execute(sa.text("SELECT normalised FROM integrity_phrase"))
            assert [tuple(row) for row in stored] == [(1, "sampah"), (2, "sampah pasar")]
            assert phrase.scalar_one() == "uang pelicin"

        assert [r.id for r in routing_rule_list(CLI_OPERATOR)] == [2, 1]
        assert routing_decide(None, "sampah pasar menumpuk").department.code == "dlh"
        assert routing_decide(None, "sampah di jalan").department.code == "dinkes"
        assert routing_decide(None, "minta uang pelicin").rule == "integrity"
        # End the session's transaction: on PostgreSQL it would hold locks the downgrade's
        # ALTER TABLE waits for.
        db.session.remove()
        downgrade(revision="0009")
        upgrade()
        db.engine.dispose()
