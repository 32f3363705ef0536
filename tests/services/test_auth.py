"""Staff accounts, passwords, authorization helpers, audit log and the users CLI."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from flask_babel import force_locale
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEntry, User
from portal.models.users import ROLES
from portal.services import auth
from portal.services.auth import CLI_OPERATOR, Permission, Role
from portal.services.errors import NotAuthorized, NotFound, ValidationError
from tests.factories import STAFF_PASSWORD, create_department, create_user

GOOD_PASSWORD = "kalteng-berintegritas-2025"


def _errors(excinfo: pytest.ExceptionInfo) -> dict[str, str]:
    return {e.field: e.error for e in excinfo.value.errors}


# Passwords ---------------------------------------------------------------------------------


def test_user_create_stores_an_argon2id_hash_and_never_the_password(app) -> None:
    user = auth.user_create("budi.santoso", GOOD_PASSWORD, "admin", actor=CLI_OPERATOR)

    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored.startswith("$argon2id$")
    assert GOOD_PASSWORD not in stored
    assert PasswordHasher().verify(stored, GOOD_PASSWORD)


def test_user_create_normalizes_the_username_to_lower_case(app) -> None:
    user = auth.user_create("  Budi.Santoso ", GOOD_PASSWORD, "dprd", actor=CLI_OPERATOR)
    assert user.username == "budi.santoso"


def test_authenticate_returns_the_user_for_the_right_password(app) -> None:
    auth.user_create("siti", GOOD_PASSWORD, "triage", actor=CLI_OPERATOR)

    user = auth.user_authenticate("siti", GOOD_PASSWORD)

    assert user is not None and user.username == "siti"
    assert user.last_login_at is not None


def test_authenticate_ignores_case_and_spaces_of_the_username(app) -> None:
    auth.user_create("siti", GOOD_PASSWORD, "triage", actor=CLI_OPERATOR)
    assert auth.user_authenticate(" SITI ", GOOD_PASSWORD) is not None


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("siti", GOOD_PASSWORD + "x"),
        ("siti", GOOD_PASSWORD.upper()),
        ("siti", ""),
        ("nobody", GOOD_PASSWORD),
        ("", ""),
        ("x" * 500, GOOD_PASSWORD),
    ],
)
def test_authenticate_refuses_wrong_passwords_and_unknown_users(app, username, password) -> None:
    auth.user_create("siti", GOOD_PASSWORD, "triage", actor=CLI_OPERATOR)
    assert auth.user_authenticate(username, password) is None


def test_authenticate_refuses_a_deactivated_account_with_the_right_password(app) -> None:
    user = create_user(role="dprd", is_active=False)
    assert auth.user_authenticate(user.username, STAFF_PASSWORD) is None


def test_authenticate_verifies_a_dummy_hash_for_unknown_usernames(app, monkeypatch) -> None:
    verified: list[str] = []
    real_verify = auth._verify
    monkeypatch.setattr(
        auth, "_verify", lambda stored, pw: verified.append(stored) or real_verify(stored, pw)
    )

    assert auth.user_authenticate("no-such-user", "whatever-password") is None

    assert len(verified) == 1 and verified[0].startswith("$argon2id$")


def test_authenticate_rehashes_a_hash_made_with_other_parameters(app) -> None:
    user = create_user(role="admin")
    old_hash = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(GOOD_PASSWORD)
    user.password_hash = old_hash
    db.session.commit()

    assert auth.user_authenticate(user.username, GOOD_PASSWORD) is not None

    new_hash = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert new_hash != old_hash
    assert not auth._hasher().check_needs_rehash(new_hash)
    assert auth.user_authenticate(user.username, GOOD_PASSWORD) is not None


# Creating accounts -------------------------------------------------------------------------


def test_user_create_officer_gets_the_department_and_an_audit_entry(app) -> None:
    department = create_department(code="dinkes")
    admin = create_user(role="admin")

    user = auth.user_create("rina", GOOD_PASSWORD, "officer", "dinkes", actor=admin)

    assert user.department_id == department.id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.create"))
    assert (entry.actor_username, entry.actor_role, entry.object_id) == (
        admin.username, "admin", str(user.id)
    )
    assert (entry.department_id, entry.to_state) == (department.id, "officer")
    assert GOOD_PASSWORD not in entry.detail


def test_user_create_from_the_command_line_is_audited_as_system(app) -> None:
    auth.user_create("rina", GOOD_PASSWORD, "admin", actor=CLI_OPERATOR)
    entry = db.session.scalar(select(AuditEntry))
    assert (entry.actor_id, entry.actor_username, entry.actor_role) == (None, "system", "system")


@pytest.mark.parametrize(
    ("username", "password", "role", "department", "field"),
    [
        ("ab", GOOD_PASSWORD, "admin", None, "username"),
        ("a" * 65, GOOD_PASSWORD, "admin", None, "username"),
        ("budi santoso", GOOD_PASSWORD, "admin", None, "username"),
        ("budi@dinkes", GOOD_PASSWORD, "admin", None, "username"),
        ("budi", "short-pw-11", "admin", None, "password"),
        ("budi", "x" * 1025, "admin", None, "password"),
        ("budi.santoso1", "Budi.Santoso1", "admin", None, "password"),
        ("budi", GOOD_PASSWORD, "superuser", None, "role"),
        ("budi", GOOD_PASSWORD, "officer", None, "department"),
        ("budi", GOOD_PASSWORD, "officer", "no-such-department", "department"),
        ("budi", GOOD_PASSWORD, "dprd", "dinkes", "department"),
        ("budi", GOOD_PASSWORD, "triage", "dinkes", "department"),
    ],
)
def test_user_create_refuses_invalid_input(app, username, password, role, department,
                                           field) -> None:
    create_department(code="dinkes")
    with pytest.raises(ValidationError) as excinfo:
        auth.user_create(username, password, role, department, actor=CLI_OPERATOR)
    assert field in _errors(excinfo)
    assert db.session.scalar(select(User.id)) is None


def test_user_create_accepts_a_password_of_exactly_twelve_characters(app) -> None:
    assert auth.user_create("budi", "abcdefghijkl", "admin", actor=CLI_OPERATOR).id is not None


def test_user_create_refuses_a_taken_username(app) -> None:
    auth.user_create("budi", GOOD_PASSWORD, "admin", actor=CLI_OPERATOR)
    with pytest.raises(ValidationError) as excinfo:
        auth.user_create("BUDI", GOOD_PASSWORD, "dprd", actor=CLI_OPERATOR)
    assert "username" in _errors(excinfo)


REPEATED = "The password must not be one character repeated."
MADE_OF_USERNAME = ("The password must not be made of the username, even repeated or with "
                    "digits or symbols added.")
FEW_REPEATED = "The password must not be a few characters repeated."
COMMON = ("The password is a common one, or a common one with digits or symbols added: "
          "attackers try those first. Choose another, such as a few unrelated words.")


@pytest.mark.parametrize(
    ("password", "why"),
    [
        pytest.param(" " * 12, REPEATED, id="twelve-spaces"),
        pytest.param("aaaaaaaaaaaa", REPEATED, id="one-letter"),
        pytest.param("weakuser5weakuser5", MADE_OF_USERNAME, id="username-twice"),
        pytest.param("WeakUser5 2024!!", MADE_OF_USERNAME, id="username-and-digits"),
        pytest.param("abababababab", FEW_REPEATED, id="two-letters-repeated"),
        pytest.param("123412341234", FEW_REPEATED, id="four-digits-repeated"),
        pytest.param("password1234", COMMON, id="on-the-list"),
        pytest.param("QwertyUiop123", COMMON, id="on-the-list-any-case"),
        pytest.param("dragon-2025!!", COMMON, id="common-word-and-digits"),
        pytest.param("monkeymonkey", COMMON, id="common-word-twice"),
        pytest.param("bismillah123", COMMON, id="common-in-indonesia"),
    ],
)
def test_user_create_refuses_weak_passwords_and_says_why(app, password, why) -> None:
    with force_locale("en"), pytest.raises(ValidationError) as excinfo:
        auth.user_create("weakuser5", password, "admin", actor=CLI_OPERATOR)
    assert _errors(excinfo) == {"password": why}
    assert db.session.scalar(select(User.id)) is None


@pytest.mark.parametrize("password", [
    "sungai kahayan mengalir tenang",
    "Rumah-Betang-di-tepi-Kahayan",
    "7Gx!pQ2#mZ9$",
    # The username inside a longer phrase is not "made of the username".
    "weakuser5 suka makan soto banjar",
])
def test_user_create_accepts_long_uncommon_passwords(app, password) -> None:
    user = auth.user_create("weakuser5", password, "admin", actor=CLI_OPERATOR)
    assert auth.user_authenticate("weakuser5", password) == user


def test_user_set_password_applies_the_same_rules(app) -> None:
    officer = create_user(role="officer", username="weakuser5")
    with force_locale("en"), pytest.raises(ValidationError) as excinfo:
        auth.user_set_password(CLI_OPERATOR, officer.id, "WEAKUSER5weakuser5")
    assert _errors(excinfo) == {"password": MADE_OF_USERNAME}
    with pytest.raises(ValidationError):
        auth.user_set_password(officer, officer.id, "iloveyou2025", current_password=STAFF_PASSWORD)
    assert auth.user_authenticate("weakuser5", STAFF_PASSWORD) is not None


def test_the_common_password_list_is_shipped_with_thousands_of_passwords() -> None:
    lines = auth.COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 10_000
    assert lines[:4] == ["123456", "123456789", "qwerty", "password"]  # most common first
    assert {"iloveyou", "sayang", "rahasia", "indonesia"} <= set(lines)
    assert all(line == line.lower() for line in lines)


@pytest.mark.parametrize("spelling", ["offb", "OFFB", " offb", "  OffB\t", "ＯＦＦＢ"])
def test_every_spelling_of_a_username_is_one_account(app, spelling) -> None:
    assert auth.normalize_username(spelling) == "offb"
    create_user(role="admin", username="offb")
    assert auth.user_authenticate(spelling, STAFF_PASSWORD).username == "offb"


@pytest.mark.parametrize("role", ["officer", "triage", "dprd"])
def test_only_an_admin_creates_accounts(app, role) -> None:
    actor = create_user(role=role)
    with pytest.raises(NotAuthorized):
        auth.user_create("budi", GOOD_PASSWORD, "admin", actor=actor)


def test_anonymous_web_user_cannot_create_accounts(app) -> None:
    with pytest.raises(NotAuthorized):
        auth.user_create("budi", GOOD_PASSWORD, "admin", actor=AnonymousUserMixin())


# Activating, passwords, listing ------------------------------------------------------------


def test_user_set_active_deactivates_and_audits(app) -> None:
    admin = create_user(role="admin")
    officer = create_user(role="officer")

    auth.user_set_active(admin, officer.id, False)

    assert officer.is_active is False
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.deactivate"))
    assert (entry.from_state, entry.to_state, entry.department_id) == (
        "active", "inactive", officer.department_id
    )


def test_user_set_active_refuses_deactivating_oneself(app) -> None:
    admin = create_user(role="admin")
    with pytest.raises(ValidationError):
        auth.user_set_active(admin, admin.id, False)
    assert admin.is_active is True


def test_user_set_active_is_admin_only_and_404_for_unknown_ids(app) -> None:
    dprd = create_user(role="dprd")
    with pytest.raises(NotAuthorized):
        auth.user_set_active(dprd, dprd.id, False)
    with pytest.raises(NotFound):
        auth.user_set_active(create_user(role="admin"), 999999, False)


def test_user_set_password_by_oneself_needs_the_current_password(app) -> None:
    officer = create_user(role="officer")
    with pytest.raises(ValidationError):
        auth.user_set_password(officer, officer.id, GOOD_PASSWORD, current_password="wrong")

    auth.user_set_password(officer, officer.id, GOOD_PASSWORD, current_password=STAFF_PASSWORD)

    assert auth.user_authenticate(officer.username, GOOD_PASSWORD) is not None
    assert auth.user_authenticate(officer.username, STAFF_PASSWORD) is None
    assert db.session.scalar(
        select(AuditEntry.action).where(AuditEntry.action == "user.password_change")
    )


def test_user_set_password_for_someone_else_is_admin_only(app) -> None:
    officer = create_user(role="officer")
    triage = create_user(role="triage")
    with pytest.raises(NotAuthorized):
        auth.user_set_password(triage, officer.id, GOOD_PASSWORD)
    auth.user_set_password(create_user(role="admin"), officer.id, GOOD_PASSWORD)
    assert auth.user_authenticate(officer.username, GOOD_PASSWORD) is not None


def test_changing_the_password_changes_the_session_identity(app) -> None:
    officer = create_user(role="officer")
    before = officer.get_id()
    auth.user_set_password(CLI_OPERATOR, officer.id, GOOD_PASSWORD)
    assert officer.get_id() != before
    assert officer.get_id().startswith(f"{officer.id}:")


def test_user_list_is_for_admins_and_sorted_by_username(app) -> None:
    admin = create_user(role="admin", username="zaki")
    create_user(role="dprd", username="andi")
    assert [u.username for u in auth.user_list(admin)] == ["andi", "zaki"]
    with pytest.raises(NotAuthorized):
        auth.user_list(create_user(role="triage"))


# Authorization helpers ---------------------------------------------------------------------


def test_require_role_accepts_listed_roles_and_refuses_the_rest(app) -> None:
    officer = create_user(role="officer")
    assert auth.require_role(officer, "officer", "admin") is officer
    with pytest.raises(NotAuthorized):
        auth.require_role(officer, "admin")


@pytest.mark.parametrize("actor", [None, AnonymousUserMixin(), "admin", object()])
def test_require_role_refuses_anonymous_and_non_users(app, actor) -> None:
    with pytest.raises(NotAuthorized):
        auth.require_role(actor, "admin", "officer", "triage", "dprd")


def test_require_role_refuses_a_deactivated_admin(app) -> None:
    admin = create_user(role="admin", is_active=False)
    with pytest.raises(NotAuthorized):
        auth.require_role(admin, "admin")


@pytest.mark.parametrize(
    ("role", "own", "other"),
    [
        ("admin", True, True),
        ("triage", True, True),
        ("officer", True, False),
        ("dprd", False, False),
    ],
)
def test_can_act_for_department_by_role(app, role, own, other) -> None:
    mine = create_department()
    theirs = create_department()
    actor = create_user(role=role, department=mine if role == "officer" else None)

    assert auth.can_act_for_department(actor, mine.id) is own
    assert auth.can_act_for_department(actor, theirs.id) is other
    if other:
        assert auth.require_department(actor, theirs.id) is actor
    else:
        with pytest.raises(NotAuthorized):
            auth.require_department(actor, theirs.id)


def test_can_act_for_department_is_false_for_anonymous(app) -> None:
    department = create_department()
    assert auth.can_act_for_department(None, department.id) is False
    assert auth.can_act_for_department(AnonymousUserMixin(), department.id) is False


def test_roles_are_exactly_the_strings_the_database_accepts() -> None:
    assert {role.value for role in Role} == set(ROLES) == {"admin", "triage", "officer", "dprd"}
    assert Role("officer") is Role.OFFICER and Role.OFFICER == "officer"


# Who may do what, as the staff roles are described to staff: a row per permission.
_ALLOWED = {
    "accounts.manage": {"admin"},
    "audit.read": {"admin", "dprd"},
    "catalogue.keep": {"admin", "officer"},
    "feedback.handle": {"admin", "triage", "officer"},
    "feedback.route": {"triage"},
    "feedback.attention": {"admin", "triage"},
    "feedback.confidential": {"triage"},
    "feedback.oversight": {"admin", "dprd"},
    "incidents.manage": {"admin", "officer"},
    "routing.manage": {"admin"},
    "tokens.manage": {"admin", "officer"},
}


def test_the_permission_table_names_every_permission() -> None:
    assert {permission.value for permission in Permission} == set(_ALLOWED)


@pytest.mark.parametrize(
    ("permission", "role"),
    [(permission, role) for permission in _ALLOWED for role in ("admin", "triage", "officer",
                                                                 "dprd")],
)
def test_staff_can_by_role(app, permission, role) -> None:
    actor = create_user(role=role)
    expected = role in _ALLOWED[permission]
    assert auth.staff_can(actor, permission) is expected
    if expected:
        assert auth.require_permission(actor, permission) is actor
    else:
        with pytest.raises(NotAuthorized):
            auth.require_permission(actor, permission)


@pytest.mark.parametrize("permission", sorted(_ALLOWED))
def test_anonymous_and_deactivated_staff_can_do_nothing(app, permission) -> None:
    for actor in (None, AnonymousUserMixin(), create_user(role="admin", is_active=False)):
        assert auth.staff_can(actor, permission) is False
        with pytest.raises(NotAuthorized):
            auth.require_permission(actor, permission)


def test_an_unknown_permission_name_is_an_error_not_a_refusal(app) -> None:
    with pytest.raises(ValueError):
        auth.staff_can(create_user(role="admin"), "incidents.manages")


@pytest.mark.parametrize("permission", sorted(_ALLOWED))
def test_the_cli_operator_has_an_administrators_permissions(app, permission) -> None:
    assert auth.staff_can(CLI_OPERATOR, permission) is ("admin" in _ALLOWED[permission])


def test_the_cli_operator_acts_for_every_department_but_is_no_staff_account(app) -> None:
    department = create_department()
    assert auth.can_act_for_department(CLI_OPERATOR, department.id) is True
    assert auth.department_scope(CLI_OPERATOR) is None
    assert auth.is_staff(CLI_OPERATOR) is False
    with pytest.raises(NotAuthorized):
        auth.require_role(CLI_OPERATOR, "admin")


def test_department_scope_is_the_officers_own_and_none_for_all(app) -> None:
    department = create_department()
    officer = create_user(role="officer", department=department)
    assert auth.department_scope(officer) == department.id
    assert auth.department_scope(create_user(role="admin")) is None
    assert auth.department_scope(create_user(role="triage")) is None


@pytest.mark.parametrize("actor", ["dprd", "officer-without-department", "anonymous"])
def test_department_scope_refuses_who_acts_for_no_department(app, actor) -> None:
    actors = {
        "dprd": lambda: create_user(role="dprd"),
        "officer-without-department": lambda: User(
            username="lost", role="officer", department_id=None, is_active=True),
        "anonymous": AnonymousUserMixin,
    }
    with pytest.raises(NotAuthorized):
        auth.department_scope(actors[actor]())


def test_none_is_anonymous_not_the_command_line(app) -> None:
    with pytest.raises(NotAuthorized):
        auth.user_list(None)
    with pytest.raises(NotAuthorized):
        auth.user_set_password(None, create_user(role="officer").id, GOOD_PASSWORD)


def test_a_caller_that_forgets_the_actor_gets_a_type_error_not_the_cli_s_power(app) -> None:
    with pytest.raises(TypeError):
        auth.user_create("budi", GOOD_PASSWORD, "admin")  # type: ignore[call-arg]
    assert db.session.scalar(select(User.id)) is None


# Audit log ---------------------------------------------------------------------------------


def test_audit_record_does_not_commit(app) -> None:
    officer = create_user(role="officer")
    auth.audit_record(officer, "feedback.transfer", "feedback", 17,
                      department_id=officer.department_id, from_state="routed",
                      to_state="routed", detail="to dinas-2")
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry.id)) is None


def test_audit_record_lands_with_the_callers_commit(app) -> None:
    officer = create_user(role="officer")
    auth.audit_record(officer, "feedback.transfer", "feedback", 17,
                      department_id=officer.department_id, from_state="routed",
                      to_state="routed")
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry))
    assert (entry.actor_id, entry.action, entry.object_type, entry.object_id) == (
        officer.id, "feedback.transfer", "feedback", "17"
    )
    assert entry.at.tzinfo is not None


def test_audit_entries_cannot_be_changed_or_deleted(app) -> None:
    auth.audit_record(None, "user.create", "user", 1)
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry))
    entry.detail = "rewritten"
    with pytest.raises(RuntimeError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(AuditEntry)))
    with pytest.raises(RuntimeError):
        db.session.commit()


@pytest.mark.parametrize(("role", "allowed"),
                         [("admin", True), ("dprd", True), ("triage", False),
                          ("officer", False)])
def test_audit_list_is_readable_by_admin_and_dprd_only(app, role, allowed) -> None:
    actor = create_user(role=role)
    if allowed:
        assert auth.audit_list(actor).total == 0
    else:
        with pytest.raises(NotAuthorized):
            auth.audit_list(actor)


def test_audit_list_pages_newest_first_and_filters_by_department(app) -> None:
    one, two = create_department(), create_department()
    for n in range(5):
        auth.audit_record(None, "test.action", "thing", n,
                          department_id=one.id if n % 2 == 0 else two.id)
    db.session.commit()
    admin = create_user(role="admin")

    first = auth.audit_list(admin, per_page=2)
    assert [e.object_id for e in first.items] == ["4", "3"]
    assert (first.total, first.has_next, first.has_prev) == (5, True, False)
    last = auth.audit_list(admin, per_page=2, page=3)
    assert [e.object_id for e in last.items] == ["0"]
    assert (last.has_next, last.has_prev) == (False, True)
    only_one = auth.audit_list(admin, department_id=one.id)
    assert [e.object_id for e in only_one.items] == ["4", "2", "0"]
    # A page past the end (a link kept from a longer log) shows the last page.
    past = auth.audit_list(admin, per_page=2, page=99)
    assert (past.page, [e.object_id for e in past.items]) == (3, ["0"])


# Command line ------------------------------------------------------------------------------


def test_cli_users_create_reads_the_password_from_the_environment(app, runner) -> None:
    create_department(code="bapenda")
    result = runner.invoke(
        args=["users", "create", "Rina", "--role", "officer", "--department", "bapenda"],
        env={"PORTAL_NEW_PASSWORD": GOOD_PASSWORD},
    )

    assert result.exit_code == 0, result.output
    assert "created rina (officer in bapenda)" in result.output
    assert auth.user_authenticate("rina", GOOD_PASSWORD) is not None


def test_cli_users_create_prompts_twice_for_the_password(app, runner, monkeypatch) -> None:
    monkeypatch.delenv("PORTAL_NEW_PASSWORD", raising=False)
    result = runner.invoke(
        args=["users", "create", "andi", "--role", "dprd"],
        input=f"{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert GOOD_PASSWORD not in result.output
    assert auth.user_authenticate("andi", GOOD_PASSWORD) is not None


def test_cli_users_create_refuses_an_officer_without_department(app, runner) -> None:
    result = runner.invoke(
        args=["users", "create", "rina", "--role", "officer"],
        env={"PORTAL_NEW_PASSWORD": GOOD_PASSWORD},
    )
    assert result.exit_code == 1
    assert "department" in result.output
    assert db.session.scalar(select(User.id)) is None


def test_cli_users_list_and_deactivate(app, runner) -> None:
    create_user(role="officer", username="rina")
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    assert "rina\tofficer\t" in result.output and "\tactive" in result.output

    result = runner.invoke(args=["users", "deactivate", "rina"])
    assert result.exit_code == 0
    assert auth.user_authenticate("rina", STAFF_PASSWORD) is None
    assert "\tinactive" in runner.invoke(args=["users", "list"]).output


def test_cli_users_create_says_why_a_password_is_refused(app, runner) -> None:
    result = runner.invoke(
        args=["users", "create", "weakuser5", "--role", "dprd"],
        env={"PORTAL_NEW_PASSWORD": "weakuser5weakuser5"},
    )
    assert result.exit_code == 1
    # The field, then the reason in English, the language of the commands' help.
    assert result.output.startswith("password: ")
    assert "The password must not be made of the username" in result.output
    assert db.session.scalar(select(User.id)) is None


def test_cli_users_create_checks_the_department_before_asking_a_password(
    app, runner, monkeypatch
) -> None:
    monkeypatch.delenv("PORTAL_NEW_PASSWORD", raising=False)
    result = runner.invoke(
        args=["users", "create", "rina", "--role", "officer", "--department", "nowhere"],
        input="",
    )
    assert result.exit_code == 1
    assert result.output == "department: does not exist\n"  # in English, and no prompt
    assert "Password" not in result.output
    assert db.session.scalar(select(User.id)) is None


def test_cli_users_deactivate_unknown_user_fails(app, runner) -> None:
    result = runner.invoke(args=["users", "deactivate", "ghost"])
    assert result.exit_code == 1
