"""Administration of feedback routing under /<lang>/staff/routing: rules and the triage unit."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.i18n import current_lang, localized
from portal.services.auth import Permission, require_permission
from portal.services.catalogue import directory as catalogue
from portal.services.errors import NotFound, ValidationError
from portal.services.feedback import routing
from portal.web import paging
from portal.web.feedback.forms import (
    IntegrityPhraseForm,
    IntegrityUnitForm,
    RoutingRuleForm,
    TriageUnitForm,
)
from portal.web.form_errors import apply_validation_error
from portal.web.staff.blueprint import (
    bp,
    dashboard_link,
    department_choices,
    department_filter_code,
)

dashboard_link(
    "staff.routing_rules", _l("Feedback routing"),
    _l("Words and phrases that send feedback to a department, the triage unit, and integrity "
       "reports."),
    Permission.ROUTING_MANAGE, order=40,
)


def _list_args(departments: list[tuple[Any, int]]) -> dict[str, Any]:
    """Return where the page's lists stand, from the query string (None: the default).

    ``department`` and ``q`` filter the rules; ``page`` pages the rules and ``phrases_page``
    the integrity phrases. The forms post to URLs carrying them and come back to them.
    """
    rules_page = paging.page_number(request.args)
    phrases_page = paging.page_number({"page": request.args.get("phrases_page", "1")})
    return {
        "department": department_filter_code(departments) or None,
        "q": request.args.get("q", "").strip()[:routing.MAX_PHRASE] or None,
        "page": rules_page if rules_page > 1 else None,
        "phrases_page": phrases_page if phrases_page > 1 else None,
    }


def _back(anchor: str | None = None):
    """Redirect to the routing page the form was posted from: the same pages and filters."""
    return redirect(url_for("staff.routing_rules", _anchor=anchor,
                            **_list_args(catalogue.department_list())), code=303)


def _render(rule_form: RoutingRuleForm | None = None, unit_form: TriageUnitForm | None = None,
            status: int = 200, phrase_form: IntegrityPhraseForm | None = None,
            integrity_form: IntegrityUnitForm | None = None):
    departments = catalogue.department_list()
    args = _list_args(departments)
    rules = routing.routing_rule_page(
        current_user, department_code=args["department"], phrase=args["q"] or "",
        page=args["page"] or 1)
    phrases = routing.integrity_phrase_page(current_user, page=args["phrases_page"] or 1)
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
    filters = {"department": args["department"], "q": args["q"]}
    return render_template(
        "staff/feedback/routing.html",
        rules=rules,
        departments=departments,
        filters=filters,
        # The forms post from, and come back to, the pages as shown (past the last: the last).
        here={**filters, "page": rules.page if rules.page > 1 else None,
              "phrases_page": phrases.page if phrases.page > 1 else None},
        triage_unit=unit,
        rule_form=rule_form,
        unit_form=unit_form,
        integrity_unit=integrity,
        integrity_phrases=phrases,
        phrase_form=phrase_form,
        integrity_form=integrity_form,
    ), status


@bp.get("/routing")
@login_required
def routing_rules():
    """List the routing rules in the order they win, a page at a time, and the units.

    ``?department=`` and ``?q=`` (text the phrase contains) filter the rules.
    """
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
    return _back()


@bp.post("/routing/rules/<int:rule_id>/delete")
@login_required
def routing_rule_delete(rule_id: int):
    """Delete a routing rule."""
    require_permission(current_user, Permission.ROUTING_MANAGE)
    # CSRFProtect checked the form's token before the view ran.
    routing.routing_rule_delete(rule_id, actor=current_user)
    flash(_("The rule is deleted."), "success")
    return _back()


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
    return _back()


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
    return _back("integrity-title")


@bp.post("/routing/integrity-phrases/<int:phrase_id>/delete")
@login_required
def routing_integrity_phrase_delete(phrase_id: int):
    """Delete an integrity phrase."""
    require_permission(current_user, Permission.ROUTING_MANAGE)
    routing.integrity_phrase_delete(phrase_id, actor=current_user)
    flash(_("The integrity phrase is deleted."), "success")
    return _back("integrity-title")


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
    return _back("integrity-title")
