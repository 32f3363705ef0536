"""DPRD oversight page under /<lang>/staff/dprd: every department's feedback, de-identified."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.services.accountability.dprd_feedback import feedback_dprd_list
from portal.services.auth import Permission, require_permission
from portal.services.catalogue import directory as catalogue
from portal.services.errors import NotFound
from portal.web import paging
from portal.web.staff.blueprint import bp, dashboard_link

dashboard_link(
    "staff.dprd_feedback", _l("Feedback across departments (de-identified)"),
    _l("Read what citizens wrote to every department, without anything that identifies them."),
    Permission.FEEDBACK_OVERSIGHT, order=15,
)


@bp.get("/dprd/feedback")
@login_required
def dprd_feedback():
    """List every department's feedback texts, newest first, without any identity."""
    require_permission(current_user, Permission.FEEDBACK_OVERSIGHT)
    code = request.args.get("department", "").strip()[:64]
    department = None
    if code:
        try:
            department = catalogue.department_get(code)
        except NotFound:
            code = ""
    result = feedback_dprd_list(
        current_user, department_id=department.id if department else None,
        page=paging.page_number(request.args),
    )
    return render_template(
        "staff/dprd_feedback.html", page=result,
        departments=catalogue.department_list(), department_code=code,
    )
