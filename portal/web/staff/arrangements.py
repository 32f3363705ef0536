"""Staff page: a department publishes its WFA arrangement (dated history, audited)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.domain.calendar import utc_now, wib_date
from portal.models.arrangements import WfaArrangement
from portal.services.auth import Permission
from portal.services.catalogue import arrangements
from portal.services.catalogue import directory as catalogue
from portal.services.errors import NotAuthorized, ValidationError
from portal.web import paging
from portal.web.form_errors import apply_validation_error
from portal.web.staff.arrangement_forms import ArrangementForm
from portal.web.staff.blueprint import bp, dashboard_link

dashboard_link(
    "staff.arrangements_index", _l("WFA arrangements"),
    _l("Publish how your department works under WFA: legal basis, supervision, work reporting "
       "and IT."),
    Permission.CATALOGUE_KEEP, order=35,
)


def _form(latest: WfaArrangement | None) -> ArrangementForm:
    """Bind the posted form, or prefill it with the latest version, from today at the earliest.

    The latest version may be one announced ahead: a new version may not start before it, so
    the form starts from it (and from its day), not from the one in force.
    """
    if request.method == "POST":
        return ArrangementForm()
    data = {"effective_from": wib_date(utc_now())}
    if latest is not None:
        declared = arrangements.ArrangementInput.of(latest)
        data.update({name: value for name, value in vars(declared).items()
                     if name != "effective_from"})
        data["effective_from"] = max(data["effective_from"], latest.effective_from)
    return ArrangementForm(formdata=None, data=data)


def _declaration(form: ArrangementForm) -> arrangements.ArrangementInput:
    """Return what the form declares; an empty text field is an empty text."""
    data = {name: getattr(form, name).data for name in _FIELDS}
    for name in _FIELDS:
        if data[name] is None and name not in _OPTIONAL_VALUES:
            data[name] = ""
    return arrangements.ArrangementInput(**data)


# Fields that stay None when empty (numbers and dates); the others are texts.
_OPTIONAL_VALUES = {"remote_share_percent", "legal_basis_date", "effective_from"}
_FIELDS = ("effective_from", "wfa_applies", "remote_share_percent", "legal_basis_title",
           "legal_basis_number", "legal_basis_date", "legal_basis_url", "supervision_id",
           "supervision_en", "reporting_id", "reporting_en", "it_systems_id", "it_systems_en",
           "reason")


@bp.get("/arrangements")
@login_required
def arrangements_index():
    """List the departments whose arrangement the staff member keeps, with what is in force."""
    result = arrangements.arrangement_department_page(
        current_user, page=paging.page_number(request.args))
    rows = [
        (department, arrangements.arrangement_current(department))
        for department in result.items
    ]
    return render_template("staff/arrangements.html", rows=rows, page=result)


@bp.route("/departments/<code>/arrangement", methods=["GET", "POST"])
@login_required
def arrangement_edit(code: str):
    """Show a department's arrangement and its history; publish a new version."""
    department = catalogue.department_get(code)
    if not arrangements.arrangement_can_keep(current_user, department):
        raise NotAuthorized("not this department's keeper")
    history = arrangements.arrangement_history(department)
    current = arrangements.arrangement_in_force(history)
    form = _form(history[0] if history else None)
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                arrangements.arrangement_record(current_user, code, _declaration(form))
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                flash(_("The WFA arrangement is recorded and published."), "success")
                return redirect(url_for("staff.arrangement_edit", code=code))
        status = 422
    return render_template(
        "staff/arrangement.html", department=department, form=form, current=current,
        history=history,
    ), status
