"""Administration of feedback routing under /<lang>/staff/routing: rules and the triage unit."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.i18n import current_lang, localized
from portal.services.auth import require_role
from portal.services.errors import NotFound, ValidationError
from portal.services.feedback import routing
from portal.web.feedback.forms import RoutingRuleForm, TriageUnitForm
from portal.web.staff.blueprint import bp, dashboard_link, department_choices

dashboard_link(
    "staff.routing_rules", _l("Feedback routing"),
    _l("Words and phrases that send feedback to a department, and the triage unit."),
    roles=("admin",), order=40,
)


def _render(rule_form: RoutingRuleForm | None = None, unit_form: TriageUnitForm | None = None,
            status: int = 200):
    choices = department_choices()
    unit = routing.triage_unit()
    rule_form = rule_form or RoutingRuleForm(formdata=None, prefix="rule")
    unit_form = unit_form or TriageUnitForm(
        formdata=None, prefix="unit", data={"department": unit.code if unit else ""})
    rule_form.department.choices = choices
    unit_form.department.choices = choices
    return render_template(
        "staff/feedback/routing.html",
        rules=routing.routing_rule_list(),
        triage_unit=unit,
        rule_form=rule_form,
        unit_form=unit_form,
    ), status


def _field_errors(form, error: ValidationError) -> None:
    for item in error.errors:
        target = form[item.field] if item.field in form else None
        if target is not None:
            target.errors = [*target.errors, item.error]
        else:
            form.form_errors.append(item.error)


@bp.get("/routing")
@login_required
def routing_rules():
    """List the routing rules in the order they win, and the triage unit."""
    require_role(current_user, "admin")
    return _render()


@bp.post("/routing/rules")
@login_required
def routing_rule_add():
    """Add a routing rule."""
    require_role(current_user, "admin")
    form = RoutingRuleForm(prefix="rule")
    form.department.choices = department_choices()
    if not form.validate():
        return _render(rule_form=form, status=422)
    try:
        rule = routing.routing_rule_add(
            form.department.data or "", form.phrase.data, form.priority.data, actor=current_user)
    except NotFound:
        form.department.errors = [*form.department.errors, _("Choose a department.")]
        return _render(rule_form=form, status=422)
    except ValidationError as error:
        _field_errors(form, error)
        return _render(rule_form=form, status=422)
    flash(_("The rule “%(phrase)s” is added.", phrase=rule.phrase), "success")
    return redirect(url_for("staff.routing_rules"), code=303)


@bp.post("/routing/rules/<int:rule_id>/delete")
@login_required
def routing_rule_delete(rule_id: int):
    """Delete a routing rule."""
    require_role(current_user, "admin")
    # CSRFProtect checked the form's token before the view ran.
    routing.routing_rule_delete(rule_id, actor=current_user)
    flash(_("The rule is deleted."), "success")
    return redirect(url_for("staff.routing_rules"), code=303)


@bp.post("/routing/triage-unit")
@login_required
def routing_triage_unit():
    """Choose the department that acts as the triage unit."""
    require_role(current_user, "admin")
    form = TriageUnitForm(prefix="unit")
    form.department.choices = department_choices()
    code = (form.department.data or "").strip() if form.validate() else ""
    if not code:
        form.department.errors = [*form.department.errors, _("Choose a department.")]
        return _render(unit_form=form, status=422)
    try:
        department = routing.routing_triage_unit_set(code, actor=current_user)
    except NotFound:
        form.department.errors = [*form.department.errors, _("Choose a department.")]
        return _render(unit_form=form, status=422)
    flash(_("%(department)s is now the triage unit.",
            department=localized(department, "name", current_lang()).text), "success")
    return redirect(url_for("staff.routing_rules"), code=303)
