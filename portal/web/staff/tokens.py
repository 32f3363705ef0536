"""API tokens of the departments' reporting systems: list, create (shown once), revoke."""

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
from portal.services.errors import ValidationError
from portal.services.metrics import tokens
from portal.web import paging
from portal.web.form_errors import apply_validation_error
from portal.web.staff.blueprint import bp, dashboard_link
from portal.web.staff.forms import PostForm, TokenCreateForm

dashboard_link(
    "staff.api_tokens", _l("API tokens"),
    _l("Tokens with which a department's systems report service requests to the portal."),
    Permission.TOKENS_MANAGE, order=30,
)


def _department_choices() -> list[SelectChoice]:
    """Departments the current user may create tokens for."""
    return [
        SelectChoice(department.code, localized(department, "name").text)
        for department, _count in catalogue.department_list()
        if auth.can_act_for_department(current_user, department.id)
    ]


def _render(form: TokenCreateForm, new_token: str | None = None, status: int = 200):
    """Render the token page."""
    return render_template(
        "staff/tokens.html",
        page=tokens.token_page(actor=current_user, page=paging.page_number(request.args)),
        form=form,
        post_form=PostForm(), new_token=new_token,
    ), status


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def api_tokens():
    """List the tokens the user may manage and create one."""
    auth.require_permission(current_user, Permission.TOKENS_MANAGE)
    form = TokenCreateForm()
    form.department.choices = _department_choices()
    if request.method == "POST":
        if not form.validate_on_submit():
            return _render(form, status=422)
        try:
            _token, plaintext = tokens.token_create(
                form.department.data, form.label.data or "", actor=current_user
            )
        except ValidationError as error:
            apply_validation_error(form, error)
            return _render(form, status=422)
        # The plaintext is shown on this one response and never again (only its hash is kept).
        fresh = TokenCreateForm(formdata=None)
        fresh.department.choices = form.department.choices
        return _render(fresh, new_token=plaintext)
    return _render(form)


@bp.post("/tokens/<int:token_id>/revoke")
@login_required
def api_token_revoke(token_id: int):
    """Revoke a token: the system using it is refused from now on."""
    token = tokens.token_revoke(token_id, actor=current_user)
    flash(_("Token %(id)d is revoked.", id=token.id), "success")
    return redirect(url_for("staff.api_tokens"))
