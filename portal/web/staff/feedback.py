"""Staff feedback pages under /<lang>/staff/feedback: inbox, one item, actions, attachments."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import BooleanField, SelectChoice

from portal.services.auth import Permission, staff_can
from portal.services.errors import ValidationError
from portal.services.feedback import handling as feedback_staff
from portal.services.feedback import publishing as feedback_publish
from portal.services.feedback.citizen import (
    PersonalDataWarning,
    personal_data_warnings,
)
from portal.services.feedback.deadlines import overdue_deadlines
from portal.web.feedback.forms import (
    StaffConfirmForm,
    StaffDepartmentForm,
    StaffPublishForm,
    StaffStatusForm,
    StaffTextForm,
)
from portal.web.form_errors import apply_validation_error
from portal.web.labels import status_label
from portal.web.paging import page_number
from portal.web.staff.blueprint import bp, dashboard_link, department_choices

dashboard_link(
    "staff.feedback_inbox", _l("Feedback inbox"),
    _l("Citizen feedback for your department, the nearest deadline first."),
    Permission.FEEDBACK_HANDLE, order=20,
)


# The box staff tick to publish a text that only looks like personal data (shown once the
# service has warned about it).
_CONFIRM_LABEL = _l("I checked: this is nobody's personal data, publish it")


class _ConfirmMixin:
    confirm = BooleanField(_CONFIRM_LABEL, default=False)
    # Set when the service warned: the template then shows the box.
    warned = False


class PublicTextForm(_ConfirmMixin, StaffTextForm):
    """A public text (answer, reason) with the box to confirm a personal-data warning."""


class PublicStatusForm(_ConfirmMixin, StaffStatusForm):
    """A status change with its public note and the confirmation box."""


class PublicDepartmentForm(_ConfirmMixin, StaffDepartmentForm):
    """A transfer with its public reason and the confirmation box."""


# How many items transferred too often the inbox names (the attention page lists them all).
INBOX_ATTENTION_SHOWN = 10


@bp.get("/feedback")
@login_required
def feedback_inbox():
    """List the feedback the staff member handles, overdue first, 50 a page (?page=N)."""
    result = feedback_staff.feedback_inbox(current_user, page=page_number(request.args))
    attention = (
        feedback_staff.feedback_attention_page(current_user, per_page=INBOX_ATTENTION_SHOWN)
        if staff_can(current_user, Permission.FEEDBACK_ATTENTION) else None
    )
    return render_template(
        "staff/feedback/inbox.html",
        items=[(item, overdue_deadlines(item)) for item in result.items],
        result=result,
        overdue_count=feedback_staff.feedback_overdue_count(current_user),
        attention=attention,
        publish_requests=feedback_publish.feedback_publish_requests(current_user),
    )


dashboard_link(
    "staff.feedback_attention", _l("Feedback moved too often"),
    _l("Feedback transferred more than twice: the triage unit settles where it belongs."),
    Permission.FEEDBACK_ATTENTION, order=25,
)


@bp.get("/feedback/attention")
@login_required
def feedback_attention():
    """List open feedback transferred more than twice, with the departments it went through."""
    result = feedback_staff.feedback_attention_page(current_user, page=page_number(request.args))
    return render_template(
        "staff/feedback/attention.html",
        items=[(item, overdue_deadlines(item)) for item in result.items], result=result,
        threshold=feedback_staff.TRANSFER_ATTENTION,
    )


def _only(choices: list[SelectChoice], allowed: set[str] | None) -> list[SelectChoice]:
    """Keep the empty choice and the allowed departments (all when allowed is None)."""
    if allowed is None:
        return choices
    return [choice for choice in choices if not choice.value or choice.value in allowed]


def _render_item(feedback_id: int, forms: dict | None = None, status: int = 200):
    feedback = feedback_staff.feedback_for_staff(current_user, feedback_id)
    forms = forms or {}
    status_form = forms.get("status") or PublicStatusForm(formdata=None, prefix="status")
    status_form.status.choices = [
        SelectChoice(s, status_label(s))
        for s in feedback_staff.STATUS_MOVES.get(feedback.status, ())
    ]
    transfer_form = forms.get("transfer") or PublicDepartmentForm(
        formdata=None, prefix="transfer")
    # An integrity report: the triage unit or the integrity unit only (the service checks too).
    destinations = feedback_staff.feedback_destinations(feedback)
    allowed = None if destinations is None else {unit.code for unit in destinations}
    transfer_form.department.choices = _only(
        department_choices(exclude=feedback.department_id), allowed)
    route_form = forms.get("route") or StaffDepartmentForm(formdata=None, prefix="route")
    route_form.department.choices = _only(department_choices(), allowed)
    text_forms = {
        name: forms.get(name) or (StaffTextForm if name == "note" else PublicTextForm)(
            formdata=None, prefix=name)
        for name in ("answer", "note", "investigation", "reject")
    }
    publish_form = forms.get("publish") or StaffPublishForm(
        formdata=None, prefix="publish",
        data={"subject": feedback.public_subject or feedback.subject,
              "body": feedback.public_body or feedback.body},
    )
    decline_form = forms.get("publish_decline") or StaffConfirmForm(
        formdata=None, prefix="publish_decline")
    return render_template(
        "staff/feedback/item.html",
        feedback=feedback,
        overdue=overdue_deadlines(feedback),
        show_identity=feedback_staff.feedback_identity_visible(current_user, feedback),
        # What the page offers: the service's answer, so the template restates no rule.
        actions=feedback_staff.feedback_allowed_actions(current_user, feedback),
        status_form=status_form,
        transfer_form=transfer_form,
        route_form=route_form,
        text_forms=text_forms,
        publish_form=publish_form,
        decline_form=decline_form,
        publish_state=feedback_publish.publish_state(feedback),
        # Confidential reports: only the triage unit decides (it alone sees the identity).
        may_decide_publishing=feedback_staff.feedback_publish_decider(current_user, feedback),
        personal_data=personal_data_warnings(
            publish_form.subject.data or "", publish_form.body.data or ""),
    ), status


@bp.get("/feedback/<int:feedback_id>")
@login_required
def feedback_item(feedback_id: int):
    """Show one feedback with everything the staff member may see, and the actions."""
    return _render_item(feedback_id)


_TEXT_ACTIONS = {
    "answer": (feedback_staff.feedback_answer, _l("The answer is published and sent.")),
    "note": (feedback_staff.feedback_note, _l("The internal note is saved.")),
    "investigation": (feedback_staff.feedback_investigation_set,
                      _l("It is marked as needing investigation.")),
    "reject": (feedback_staff.feedback_reject, _l("It is rejected; the citizen is told why.")),
}


@bp.post("/feedback/<int:feedback_id>/<action>")
@login_required
def feedback_act(feedback_id: int, action: str):
    """Carry out one staff action; errors re-render the page next to the form."""
    if action == "note":
        form = StaffTextForm(prefix=action)
        run, done = _TEXT_ACTIONS[action]
        call = lambda: run(current_user, feedback_id, form.text.data)  # noqa: E731
    elif action in _TEXT_ACTIONS:
        form = PublicTextForm(prefix=action)
        run, done = _TEXT_ACTIONS[action]
        call = lambda: run(  # noqa: E731
            current_user, feedback_id, form.text.data, confirmed=bool(form.confirm.data))
    elif action == "status":
        form = PublicStatusForm(prefix="status")
        done = _l("The status is changed.")
        call = lambda: feedback_staff.feedback_status_set(  # noqa: E731
            current_user, feedback_id, form.status.data, form.text.data or "",
            confirmed=bool(form.confirm.data))
    elif action == "transfer":
        form = PublicDepartmentForm(prefix="transfer")
        done = _l("It is transferred.")
        call = lambda: feedback_staff.feedback_transfer(  # noqa: E731
            current_user, feedback_id, form.department.data, form.text.data or "",
            confirmed=bool(form.confirm.data))
    elif action == "publish":
        form = StaffPublishForm(prefix="publish")
        done = _l("The public version is published.")
        call = lambda: feedback_publish.feedback_publish_approve(  # noqa: E731
            current_user, feedback_id, form.subject.data, form.body.data)
    elif action == "publish_decline":
        form = StaffConfirmForm(prefix="publish_decline")
        done = _l("The text is not published.")
        call = lambda: feedback_publish.feedback_publish_decline(  # noqa: E731
            current_user, feedback_id)
    elif action == "route":
        form = StaffDepartmentForm(prefix="route")
        done = _l("It is routed.")
        call = lambda: feedback_staff.feedback_route(  # noqa: E731
            current_user, feedback_id, form.department.data)
    else:
        abort(404)
    # Permission first: a forbidden action is a 403 whatever the input.
    feedback_staff.feedback_for_staff(current_user, feedback_id)
    if form.validate():
        try:
            call()
        except ValidationError as error:
            if isinstance(error, PersonalDataWarning):
                form.warned = True
            # Errors about a text go next to it (the text is kept); the others above.
            apply_validation_error(form, error, {"reason": "text"}, ("text", "subject", "body"))
        else:
            flash(str(done), "success")
            return redirect(url_for("staff.feedback_item", feedback_id=feedback_id), code=303)
    return _render_item(feedback_id, {action: form}, status=422)


@bp.get("/feedback/<int:feedback_id>/attachments/<int:attachment_id>")
@login_required
def feedback_attachment(feedback_id: int, attachment_id: int):
    """Send an attachment to staff allowed to handle the feedback (never cached)."""
    attachment, path = feedback_staff.feedback_attachment_file(
        current_user, feedback_id, attachment_id)
    if not path.exists():
        abort(404)
    response = send_file(
        path, mimetype=attachment.content_type, as_attachment=True,
        download_name=f"attachment-{attachment.id}{path.suffix}",
    )
    response.headers["Cache-Control"] = "no-store"
    return response

