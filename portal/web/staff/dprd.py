"""DPRD oversight page under /<lang>/staff/dprd: every department's feedback, de-identified."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.services.accountability.dprd_feedback import DPRD_READ_ROLES, feedback_dprd_list
from portal.services.auth import require_role
from portal.services.catalogue import directory as catalogue
from portal.services.errors import NotFound
from portal.web import paging
from portal.web.staff.blueprint import bp, dashboard_link

PAGE_SIZE = 50

dashboard_link(
    "staff.dprd_feedback", _l("Feedback across departments (de-identified)"),
    _l("Read what citizens wrote to every department, without anything that identifies them."),
    roles=DPRD_READ_ROLES, order=15,
)


@bp.get("/dprd/feedback")
@login_required
def dprd_feedback():
    """List every department's feedback texts, newest first, without any identity."""
    require_role(current_user, *DPRD_READ_ROLES)
    code = request.args.get("department", "").strip()[:64]
    department = None
    if code:
        try:
            department = catalogue.department_get(code)
        except NotFound:
            code = ""
    page_number = paging.page_number(request.args)
    result = feedback_dprd_list(
        current_user, department_id=department.id if department else None,
        limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE,
    )
    return render_template(
        "staff/dprd_feedback.html", page=result, page_number=page_number,
        departments=catalogue.department_list(), department_code=code,
    )
