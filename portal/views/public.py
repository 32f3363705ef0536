"""Public pages: home, services, departments (every URL starts with the language)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from portal.models.catalogue import WORK_MODES
from portal.services import catalogue

bp = Blueprint("public", __name__, url_prefix="/<lang>")


@bp.get("/")
def home():  # noqa: ANN201
    """Show what the portal is, services by work mode, and a search box."""
    return render_template(
        "public/home.html",
        counts=catalogue.work_mode_counts(),
    )


@bp.get("/services")
def services():  # noqa: ANN201
    """List services, filtered by text, department and work mode."""
    query = request.args.get("q", "").strip()[:100]
    department = request.args.get("department", "").strip()[:64]
    mode = request.args.get("mode", "").strip()
    if mode not in WORK_MODES:
        mode = ""
    return render_template(
        "public/services.html",
        services=catalogue.service_search(query, department, mode),
        departments=catalogue.department_list(),
        query=query,
        department=department,
        mode=mode,
    )


@bp.get("/services/<code>")
def service(code: str):  # noqa: ANN201
    """Show one service: department, work mode, commitment and their histories."""
    return render_template("public/service.html", service=catalogue.service_get(code))


@bp.get("/departments")
def departments():  # noqa: ANN201
    """List departments with their number of services."""
    return render_template("public/departments.html", departments=catalogue.department_list())


@bp.get("/departments/<code>")
def department(code: str):  # noqa: ANN201
    """Show one department and its services."""
    return render_template("public/department.html", department=catalogue.department_get(code))
