"""Staff pages under /<lang>/staff/incidents: open and update incidents, plan maintenance."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.domain.calendar import WIB
from portal.i18n import localized
from portal.models.incidents import INCIDENT_IMPACTS, INCIDENT_STATES
from portal.services.auth import Permission
from portal.services.errors import ValidationError
from portal.services.metrics import incidents as incident_service
from portal.services.subscriptions.notify import subscriptions_notify_now
from portal.web import paging
from portal.web.form_errors import apply_validation_error
from portal.web.public.incidents import incident_impact_label, incident_state_label
from portal.web.staff.blueprint import bp, dashboard_link
from portal.web.staff.incident_forms import IncidentOpenForm, IncidentUpdateForm, MaintenanceForm

dashboard_link(
    "staff.incidents", _l("Incidents and maintenance"),
    _l("Tell citizens when a service is disrupted, how it goes, and when work is planned."),
    Permission.INCIDENTS_MANAGE, order=40,
)


def _service_choices() -> list[tuple[str, str]]:
    """Return the services the staff member may name, labelled with their department."""
    return [
        (s.code, f"{localized(s, 'name').text} ({localized(s.department, 'name').text})")
        for s in incident_service.incident_services_for(current_user)
    ]


@bp.get("/incidents")
@login_required
def incidents():
    """List the incidents and maintenance the staff member manages, each a page at a time."""
    # Two paged lists: ?page= pages the incidents, ?maintenance_page= the maintenance.
    maintenance_page = paging.page_number({"page": request.args.get("maintenance_page", "1")})
    return render_template(
        "staff/incidents/index.html",
        page=incident_service.incident_page_for_staff(
            current_user, page=paging.page_number(request.args)),
        maintenance=incident_service.maintenance_page_for_staff(
            current_user, when="current", page=maintenance_page),
    )


@bp.route("/incidents/new", methods=["GET", "POST"])
@login_required
def incident_new():
    """Open an incident on services of the staff member's department."""
    form = IncidentOpenForm()
    form.services.choices = _service_choices()
    form.impact.choices = [(i, incident_impact_label(i)) for i in INCIDENT_IMPACTS]
    form.state.choices = [(s, incident_state_label(s)) for s in INCIDENT_STATES[:-1]]
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                incident = incident_service.incident_open(
                    current_user, form.services.data, form.impact.data, form.title_id.data,
                    form.title_en.data or "", form.body_id.data, form.body_en.data or "",
                    state=form.state.data,
                )
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                subscriptions_notify_now()
                flash(_("The incident is open and published."), "success")
                return redirect(url_for("staff.incident_detail", incident_id=incident.id))
        status = 422
    return render_template("staff/incidents/new.html", form=form), status


@bp.route("/incidents/<int:incident_id>", methods=["GET", "POST"])
@login_required
def incident_detail(incident_id: int):
    """Show an incident's timeline and post an update to it."""
    incident = incident_service.incident_get(incident_id)
    if not incident_service.incident_can_manage(current_user, incident):
        abort(403)
    form = IncidentUpdateForm(data=None if request.method == "POST" else {"state": incident.state})
    form.state.choices = [(s, incident_state_label(s)) for s in INCIDENT_STATES]
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                incident_service.incident_update(
                    current_user, incident_id, form.state.data, form.body_id.data,
                    form.body_en.data or "",
                )
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                subscriptions_notify_now()  # a resolution is announced to subscribers
                flash(_("The update is published."), "success")
                return redirect(url_for("staff.incident_detail", incident_id=incident_id))
        status = 422
    return render_template("staff/incidents/detail.html", incident=incident, form=form), status


@bp.route("/incidents/maintenance/new", methods=["GET", "POST"])
@login_required
def maintenance_new():
    """Declare planned maintenance of services of the staff member's department."""
    form = MaintenanceForm()
    form.services.choices = _service_choices()
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                incident_service.maintenance_schedule(
                    current_user, form.services.data,
                    form.starts_at.data.replace(tzinfo=WIB), form.ends_at.data.replace(tzinfo=WIB),
                    form.title_id.data, form.title_en.data or "",
                    form.description_id.data or "", form.description_en.data or "",
                )
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                subscriptions_notify_now()
                flash(_("The maintenance is scheduled and published."), "success")
                return redirect(url_for("staff.incidents"))
        status = 422
    return render_template("staff/incidents/maintenance_new.html", form=form), status
