"""Commands for feedback routing, run as the command-line operator through the same services."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEntry, Department, RoutingRule
from portal.services import auth
from portal.services.feedback import routing
from portal.services.metrics import tokens
from tests.factories import create_department


def test_routing_commands_add_list_remove_and_choose_the_triage_unit(runner, app):
    create_department(code="dpupr")
    create_department(code="ulp")

    added = runner.invoke(args=["routing", "add", "dpupr", "jalan rusak", "--priority", "5"])
    assert added.exit_code == 0, added.output
    rule = db.session.scalar(select(RoutingRule))
    assert (rule.department.code, rule.phrase, rule.priority) == ("dpupr", "jalan rusak", 5)

    unit = runner.invoke(args=["routing", "triage-unit", "ulp"])
    assert unit.exit_code == 0, unit.output
    assert db.session.scalar(select(Department.code).where(Department.is_triage_unit)) == "ulp"

    listing = runner.invoke(args=["routing", "list"])
    assert "triage unit: ulp" in listing.output
    assert f"{rule.id}\t5\tdpupr\tjalan rusak" in listing.output

    removed = runner.invoke(args=["routing", "remove", str(rule.id)])
    assert removed.exit_code == 0, removed.output
    assert db.session.scalar(select(RoutingRule)) is None
    # The command line is not a staff account: the audit log says "system".
    actors = {(e.action, e.actor_username) for e in db.session.scalars(select(AuditEntry))}
    assert actors == {("routing.rule_add", "system"), ("routing.triage_unit", "system"),
                      ("routing.rule_delete", "system")}


def test_routing_add_to_an_unknown_department_fails_and_writes_nothing(runner, app):
    result = runner.invoke(args=["routing", "add", "nope", "sampah"])
    assert result.exit_code == 1
    assert "nope" in result.output
    assert db.session.scalar(select(RoutingRule)) is None


# A caller that names no actor must fail loudly, never act with the command line's power.
FORGETFUL_CALLS = {
    "user_create": lambda: auth.user_create("budi", "kalteng-berintegritas-2025", "admin"),
    "token_create": lambda: tokens.token_create("dpupr", "x"),
    "token_list": lambda: tokens.token_list(),
    "token_revoke": lambda: tokens.token_revoke(1),
    "routing_rule_add": lambda: routing.routing_rule_add("dpupr", "jalan"),
    "routing_rule_delete": lambda: routing.routing_rule_delete(1),
    "routing_rule_list": lambda: routing.routing_rule_list(),
    "routing_triage_unit_set": lambda: routing.routing_triage_unit_set("dpupr"),
}


@pytest.mark.parametrize("name", sorted(FORGETFUL_CALLS))
def test_a_service_called_without_an_actor_raises_type_error(app, name):
    create_department(code="dpupr")
    with pytest.raises(TypeError):
        FORGETFUL_CALLS[name]()
    assert db.session.scalar(select(AuditEntry)) is None
