"""Administration of feedback routing under /<lang>/staff/routing: rules and the triage unit."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.i18n import current_lang, localized
from portal.services.auth import Permission, require_permission
from portal.services.errors import NotFound, ValidationError
from portal.services.feedback import routing
from portal.web.feedback.forms import (
    IntegrityPhraseForm,
    IntegrityUnitForm,
    RoutingRuleForm,
    TriageUnitForm,
)
from portal.web.form_errors import apply_validation_error
from portal.web.staff.blueprint import bp, dashboard_link, department_choices

dashboard_link(
    "staff.routing_rules", _l("Feedback routing"),
    _l("Words and phrases that send feedback to a department, the triage unit, and integrity "
       "reports."),
    Permission.ROUTING_MANAGE, order=40,
)


def _render(rule_form: RoutingRuleForm | None = None, unit_form: TriageUnitForm | None = None,
            status: int = 200, phrase_form: IntegrityPhraseForm | None = None,
            integrity_form: IntegrityUnitForm | None = None):
    choices = department_choices()
    unit = routing.triage_unit()
    integrity = routing.integrity_unit()
    rule_form = rule_form or RoutingRuleForm(formdata=None, prefix="rule")
    unit_form = unit_form or TriageUnitForm(
        formdata=None, prefix="unit", data={"department": unit.code if unit else ""})
    phrase_form = phrase_form or IntegrityPhraseForm(formdata=None, prefix="integrity_phrase")
    integrity_form = integrity_form or IntegrityUnitForm(
        formdata=None, prefix="integrity_unit",
        data={"department": integrity.code if integrity else ""})
    rule_form.department.choices = choices
    unit_form.department.choices = choices
    integrity_form.department.choices = choices
    return render_template(
        "staff/feedback/routing.html",
        rules=routing.routing_rule_list(current_user),
        triage_unit=unit,
        rule_form=rule_form,
        unit_form=unit_form,
        integrity_unit=integrity,
        integrity_phrases=routing.integrity_phrase_list(current_user),
        phrase_form=phrase_form,
        integrity_form=integrity_form,
    ), status


@bp.get("/routing")
@login_required
def routing_rules():
    """List the routing rules in the order they win, and the triage unit."""
    require_permission(current_user, Permission.ROUTING_MANAGE)
    return _render()


@bp.post("/routing/rules")
@login_required
def routing_rule_add():
    """Add a routing rule."""
    require_permission(current_user, Permission.ROUTING_MANAGE)
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
        apply_validation_error(form, error)
        return _render(rule_form=form, status=422)
    flash(_("The rule “%(phrase)s” is added.", phrase=rule.phrase), "success")
    return redirect(url_for("staff.routing_rules"), code=303)


@bp.post("/routing/rules/<int:rule_id>/delete")
@login_required
def routing_rule_delete(rule_id: int):
    """Delete a routing rule."""
    require_permission(current_user, Permission.ROUTING_MANAGE)
    # CSRFProtect checked the form's token before the view ran.
    routing.routing_rule_delete(rule_id, actor=current_user)
    flash(_("The rule is deleted."), "success")
    return redirect(url_for("staff.routing_rules"), code=303)


@bp.post("/routing/triage-unit")
@login_required
def routing_triage_unit():
    """Choose the department that acts as the triage unit."""
    require_permission(current_user, Permission.ROUTING_MANAGE)
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


@bp.post("/routing/integrity-phrases")
@login_required
def routing_integrity_phrase_add():
    """Add an integrity phrase."""
    require_permission(current_user, Permission.ROUTING_MANAGE)
    form = IntegrityPhraseForm(prefix="integrity_phrase")
    if not form.validate():
        return _render(phrase_form=form, status=422)
    try:
        item = routing.integrity_phrase_add(form.phrase.data, actor=current_user)
    except ValidationError as error:
        apply_validation_error(form, error)
        return _render(phrase_form=form, status=422)
    flash(_("The integrity phrase “%(phrase)s” is added.", phrase=item.phrase), "success")
    return redirect(url_for("staff.routing_rules", _anchor="integrity-title"), code=303)


@bp.post("/routing/integrity-phrases/<int:phrase_id>/delete")
@login_required
def routing_integrity_phrase_delete(phrase_id: int):
    """Delete an integrity phrase."""
    require_permission(current_user, Permission.ROUTING_MANAGE)
    routing.integrity_phrase_delete(phrase_id, actor=current_user)
    flash(_("The integrity phrase is deleted."), "success")
    return redirect(url_for("staff.routing_rules", _anchor="integrity-title"), code=303)


@bp.post("/routing/integrity-unit")
@login_required
def routing_integrity_unit():
    """Choose the department that acts as the integrity unit."""
    require_permission(current_user, Permission.ROUTING_MANAGE)
    form = IntegrityUnitForm(prefix="integrity_unit")
    form.department.choices = department_choices()
    code = (form.department.data or "").strip() if form.validate() else ""
    if not code:
        form.department.errors = [*form.department.errors, _("Choose a department.")]
        return _render(integrity_form=form, status=422)
    try:
        department = routing.routing_integrity_unit_set(code, actor=current_user)
    except NotFound:
        form.department.errors = [*form.department.errors, _("Choose a department.")]
        return _render(integrity_form=form, status=422)
    flash(_("%(department)s is now the integrity unit.",
            department=localized(department, "name", current_lang()).text), "success")
    return redirect(url_for("staff.routing_rules", _anchor="integrity-title"), code=303)
