"""Administration pages: staff accounts and the audit log."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from portal.i18n import localized
from portal.services import auth
from portal.services.auth import Permission
from portal.services.catalogue import directory as catalogue
from portal.services.errors import NotFound, ValidationError
from portal.web import paging
from portal.web.form_errors import apply_validation_error
from portal.web.labels import role_label
from portal.web.staff.blueprint import bp, dashboard_link
from portal.web.staff.forms import PostForm, UserCreateForm

dashboard_link(
    "staff.users", _l("Staff accounts"),
    _l("Create accounts, give them a role and a department, deactivate them."),
    Permission.ACCOUNTS_MANAGE, order=10,
)
dashboard_link(
    "staff.audit", _l("Audit log"),
    _l("Every staff action: who did what, when, from which state to which."),
    Permission.AUDIT_READ, order=20,
)


def _department_choices() -> list[SelectChoice]:
    """Return the department select options, an empty choice first."""
    choices = [SelectChoice("", _("— none —"))]
    for department, _count in catalogue.department_list():
        choices.append(SelectChoice(department.code, localized(department, "name").text))
    return choices


def _render_users(form: UserCreateForm, status: int = 200):
    """Render the accounts page (the list needs admin: the service checks)."""
    users = auth.user_page(current_user, page=paging.page_number(request.args))
    return render_template(
        "staff/users.html", page=users, form=form, post_form=PostForm(),
        role_label=role_label,
    ), status


@bp.route("/users", methods=["GET", "POST"])
@login_required
def users():
    """List staff accounts and create one."""
    auth.require_permission(current_user, Permission.ACCOUNTS_MANAGE)
    form = UserCreateForm()
    form.department.choices = _department_choices()
    if request.method == "POST":
        if not form.validate_on_submit():
            return _render_users(form, 422)
        try:
            user = auth.user_create(
                form.username.data, form.password.data, form.role.data,
                department_code=form.department.data or None, actor=current_user,
                full_name=form.full_name.data or "", email=form.email.data or "",
            )
        except ValidationError as error:
            apply_validation_error(form, error)
            return _render_users(form, 422)
        flash(_("Account %(username)s created.", username=user.username), "success")
        return redirect(url_for("staff.users"))
    return _render_users(form)


@bp.post("/users/<int:user_id>/deactivate")
@login_required
def user_deactivate(user_id: int):
    """Deactivate an account (it can no longer log in; its history stays)."""
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/activate")
@login_required
def user_activate(user_id: int):
    """Activate an account again."""
    return _set_active(user_id, True)


def _set_active(user_id: int, active: bool):
    """Call the service and come back to the list with a message."""
    PostForm()  # the CSRF token was checked by CSRFProtect before the view
    try:
        user = auth.user_set_active(current_user, user_id, active)
    except ValidationError as error:
        for item in error.errors:
            flash(item.error, "error")
        return redirect(url_for("staff.users"))
    if active:
        flash(_("Account %(username)s is active again.", username=user.username), "success")
    else:
        flash(_("Account %(username)s is deactivated.", username=user.username), "success")
    return redirect(url_for("staff.users"))


@bp.get("/audit")
@login_required
def audit():
    """Show the audit log, newest first, a page at a time, optionally for one department."""
    auth.require_permission(current_user, Permission.AUDIT_READ)
    code = request.args.get("department", "").strip()[:64]
    department = None
    if code:
        try:
            department = catalogue.department_get(code)
        except NotFound:
            code = ""
    result = auth.audit_list(
        current_user, department_id=department.id if department else None,
        page=paging.page_number(request.args),
    )
    return render_template(
        "staff/audit.html", page=result,
        departments=catalogue.department_list(), department_code=code,
        role_label=role_label,
    )
