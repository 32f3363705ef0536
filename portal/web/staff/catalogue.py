"""Staff catalogue upkeep: a department's services, their work mode and commitment."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from portal.domain.calendar import utc_now, wib_date
from portal.models.catalogue import WORK_MODES, Service
from portal.services.auth import Permission, department_scope
from portal.services.catalogue import directory as catalogue
from portal.services.catalogue import upkeep as catalogue_staff
from portal.services.errors import NotAuthorized, ValidationError
from portal.web import paging
from portal.web.form_errors import apply_validation_error
from portal.web.formatting import work_mode_label
from portal.web.staff.blueprint import bp, dashboard_link, department_filter_code
from portal.web.staff.forms import CommitmentForm, WorkModeForm

dashboard_link(
    "staff.services", _l("Services of my department"),
    _l("Record a change of work mode or of commitment: it appears in the public history."),
    Permission.CATALOGUE_KEEP, order=30,
)


def _forms(service: Service) -> tuple[WorkModeForm, CommitmentForm]:
    """Build both forms, each bound to the request only when it is the one posted."""
    posted = request.form.get("form") if request.method == "POST" else None
    today = wib_date(utc_now())
    mode_form = WorkModeForm(
        formdata=request.form if posted == "work_mode" else None, prefix="mode",
        data=None if posted == "work_mode" else {"effective_from": today},
    )
    mode_form.work_mode.choices = [
        SelectChoice(mode, work_mode_label(mode)) for mode in WORK_MODES
        if mode != service.work_mode
    ]
    commitment_form = CommitmentForm(
        formdata=request.form if posted == "commitment" else None,
        prefix="commitment",
        data=None if posted == "commitment" else {
            "commitment_value": service.commitment_value,
            "commitment_unit": service.commitment_unit,
            "on_time_target_percent": round(service.on_time_target * 100),
            "first_response_value": service.first_response_value,
            "first_response_unit": service.first_response_unit or service.commitment_unit,
            "effective_from": today,
        },
    )
    return mode_form, commitment_form


@bp.get("/services")
@login_required
def services():
    """List the services the staff member keeps, a page at a time, optionally by department."""
    # Only staff who keep more than one department's services need the filter.
    departments = catalogue.department_list() if department_scope(current_user) is None else []
    code = department_filter_code(departments)
    return render_template(
        "staff/services.html",
        page=catalogue_staff.service_page_for_keeper(
            current_user, department_code=code or None, page=paging.page_number(request.args)),
        departments=departments, department_code=code,
    )


@bp.route("/services/<code>/edit", methods=["GET", "POST"])
@login_required
def service_edit(code: str):
    """Record a change of work mode or of commitment for one service."""
    service = catalogue.service_get(code)
    if not catalogue_staff.service_can_keep(current_user, service):
        raise NotAuthorized("not this service's keeper")
    mode_form, commitment_form = _forms(service)
    status = 200
    if request.method == "POST":
        posted = request.form.get("form")
        try:
            if posted == "work_mode" and mode_form.validate():
                catalogue_staff.service_work_mode_change(
                    current_user, code, mode_form.work_mode.data,
                    mode_form.effective_from.data, mode_form.reason.data or "",
                )
                flash(_("The work mode change is recorded and published."), "success")
                return redirect(url_for("staff.service_edit", code=code))
            if posted == "commitment" and commitment_form.validate():
                # An empty time means no first-response promise, whatever unit is selected.
                first_value = commitment_form.first_response_value.data
                first_unit = (
                    None if first_value is None else commitment_form.first_response_unit.data
                )
                catalogue_staff.service_commitment_change(
                    current_user, code, commitment_form.commitment_value.data,
                    commitment_form.commitment_unit.data,
                    commitment_form.on_time_target_percent.data / 100,
                    commitment_form.effective_from.data, commitment_form.reason.data or "",
                    first_response_value=first_value, first_response_unit=first_unit,
                )
                flash(_("The commitment change is recorded and published."), "success")
                return redirect(url_for("staff.service_edit", code=code))
        except ValidationError as error:
            if posted == "work_mode":
                apply_validation_error(mode_form, error)
            else:
                apply_validation_error(
                    commitment_form, error, {"on_time_target": "on_time_target_percent"}
                )
        status = 422
        # The service may have been reloaded; show its current state.
        service = catalogue.service_get(code)
    return render_template(
        "staff/service_edit.html", service=service, mode_form=mode_form,
        commitment_form=commitment_form,
    ), status
