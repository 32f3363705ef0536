"""JSON API of the accountability figures: WFA impact per service, department scorecards.

Public reads only (GET): CSRF protection stays on, as nothing here changes state. Texts
meant for people come in ``?lang=id|en`` (else Accept-Language, else Indonesian).
"""

from __future__ import annotations

import csv
import io

from flask import current_app, g, request
from flask_babel import gettext as _

from portal.i18n import localized
from portal.services.accountability.commissions import (
    accountability_commission_table,
    commission_resolve,
)
from portal.services.accountability.snapshots import accountability_data_version
from portal.services.accountability.tables import (
    PERIOD_CHOICES,
    AccountabilityTable,
    period_resolve,
)
from portal.services.errors import FieldError, ValidationError, must_be_one_of
from portal.services.metrics.wfa_impact import wfa_impact_for_code
from portal.services.opendata.cells import formula_safe
from portal.web.accountability.pages import DEFINITION_LIMITS
from portal.web.accountability.present import comparison_text
from portal.web.accountability.workbook import accountability_workbook
from portal.web.api.answers import api_date_problem, json_answer
from portal.web.api.blueprint import bp
from portal.web.api.problems import problem
from portal.web.formatting import Formats
from portal.web.public.live import cached_view
from portal.web.urls import absolute_path


@bp.get("/services/<code>/wfa-impact")
@cached_view(accountability_data_version)
def service_wfa_impact(code: str):
    """Return a service's WFA impact; 404 ``no_wfa_change`` when it never moved.

    Before and after count the requests that fell due; ``comparison`` is the group of
    services that stayed on-site over the same weeks (null when there is none), and
    ``adjusted_verdict`` reads the net difference (the service's change minus theirs).
    """
    impact = wfa_impact_for_code(code)
    if impact is None:
        return problem("no-wfa-change", _(
            "This service has never moved to WFA or hybrid work, so there is no before and "
            "after to compare."))
    return json_answer(impact.as_json())


# The flat columns of the CSV and XLSX downloads: (column, path into the JSON row).
EXPORT_COLUMNS: list[tuple[str, tuple[str, ...]]] = [
    ("code", ("code",)),
    ("name", ("name",)),
    ("dprd_commission", ("dprd_commission",)),
    ("services", ("services",)),
    ("services_onsite", ("services_by_work_mode", "onsite")),
    ("services_hybrid", ("services_by_work_mode", "hybrid")),
    ("services_wfa", ("services_by_work_mode", "wfa")),
    ("completed", ("completed",)),
    ("due", ("due",)),
    ("on_time", ("on_time",)),
    ("on_time_rate", ("on_time_rate",)),
    ("median_completion_hours", ("median_completion_hours",)),
    ("services_breaching", ("services_breaching",)),
    *[(f"status_{s}", ("status_counts", s)) for s in (
        "disrupted", "no_data", "insufficient_data", "meeting", "at_risk", "breaching")],
    *[(f"feedback_{k}", ("feedback", k)) for k in (
        "submitted", "routed", "first_response_on_time_rate", "median_days_to_first_response",
        "resolved_on_time_rate", "overdue_now", "transfers", "reopen_rate")],
    ("ikm_responses", ("ikm", "responses")),
    ("ikm", ("ikm", "ikm")),
    ("ikm_grade", ("ikm", "grade")),
    # The pooled WFA impact; the comparison group's part is prefixed wfa_comparison_.
    ("wfa_services", ("wfa_impact", "services")),
    ("wfa_services_moved", ("wfa_impact", "services_moved")),
    ("wfa_change_date", ("wfa_impact", "change_date")),
    *[(f"wfa_{side}_{k}", ("wfa_impact", side, k)) for side in ("before", "after") for k in (
        "due", "on_time", "on_time_rate", "median_completion_hours")],
    ("wfa_difference", ("wfa_impact", "difference")),
    ("wfa_ci_low", ("wfa_impact", "ci_low")),
    ("wfa_ci_high", ("wfa_impact", "ci_high")),
    ("wfa_verdict", ("wfa_impact", "verdict")),
    ("wfa_verdict_reason", ("wfa_impact", "verdict_reason")),
    ("wfa_comparison_scope", ("wfa_impact", "comparison", "scope")),
    ("wfa_comparison_services", ("wfa_impact", "comparison", "services")),
    *[(f"wfa_comparison_{side}_{k}", ("wfa_impact", "comparison", side, k))
      for side in ("before", "after") for k in ("due", "on_time", "on_time_rate")],
    ("wfa_comparison_difference", ("wfa_impact", "comparison", "difference")),
    ("wfa_comparison_ci_low", ("wfa_impact", "comparison", "ci_low")),
    ("wfa_comparison_ci_high", ("wfa_impact", "comparison", "ci_high")),
    ("wfa_net_difference", ("wfa_impact", "net_difference")),
    ("wfa_net_ci_low", ("wfa_impact", "net_ci_low")),
    ("wfa_net_ci_high", ("wfa_impact", "net_ci_high")),
    ("wfa_adjusted_verdict", ("wfa_impact", "adjusted_verdict")),
    ("wfa_adjusted_verdict_reason", ("wfa_impact", "adjusted_verdict_reason")),
]
PERIOD_COLUMNS = ("period_from", "period_to", "data_as_of", "generated_at")


def _dig(row: dict, path: tuple[str, ...]) -> object:
    """Follow a path into a JSON row; None where a part is missing (e.g. no WFA move)."""
    value: object = row
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return value


def export_rows(body: dict) -> list[list[object]]:
    """Flatten the accountability JSON into the download's rows, the header first.

    Each department is a row, then the province (code "province"); every row repeats the
    period and the data's freshness so that no row can be read without them.
    """
    header = [name for name, _path in EXPORT_COLUMNS] + list(PERIOD_COLUMNS)
    stamp = [body["from"], body["to"], body["data_as_of"], body["generated_at"]]
    rows = [header]
    for row in [*body["departments"], {"code": "province", "name": "", **body["province"]}]:
        rows.append([_dig(row, path) for _name, path in EXPORT_COLUMNS] + stamp)
    return rows


def _table() -> tuple[AccountabilityTable, dict]:
    """Return the table and its JSON body for the query; raise ValidationError (422) if invalid.

    An unknown ?period is refused rather than read as the default, and a date given (even
    empty) must be written YYYY-MM-DD; the rules of the period itself are period_resolve's.
    ?commission (I to IV) keeps that DPRD commission's departments; the province stays whole.
    """
    period = request.args.get("period")
    errors = []
    if period is not None and period not in PERIOD_CHOICES:
        errors.append(FieldError("period", must_be_one_of(PERIOD_CHOICES),
                                 code="invalid_choice"))
    for name in ("from", "to"):
        raw = request.args.get(name)
        if raw is not None and (found := api_date_problem(name, raw)):
            errors.append(found)
    commission = None
    try:
        commission = commission_resolve(request.args.get("commission"))
    except ValidationError as error:
        errors.extend(error.errors)
    if errors:
        raise ValidationError(errors)
    _key, from_date, to_date = period_resolve(period, request.args.get("from"),
                                              request.args.get("to"))
    table = accountability_commission_table(from_date, to_date, commission)
    body = table.as_json(g.lang)
    body = {"from": body.pop("from"), "to": body.pop("to"), "commission": commission, **body}
    body["departments"] = [
        {"code": row.pop("code"), "name": row.pop("name"),
         "dprd_commission": scorecard.department.dprd_commission, **row}
        for row, scorecard in zip(body["departments"], table.departments, strict=True)
    ]
    return table, body


def _table_body() -> dict:
    return _table()[1]


@bp.get("/accountability")
@cached_view(accountability_data_version)
def accountability_json():
    """Every department's scorecard and the province's over ?from=&to= (default 90 days)."""
    return json_answer(_table_body())


def _filename(body: dict, extension: str) -> str:
    commission = f"_{body['commission']}" if body["commission"] else ""
    return f"accountability{commission}_{body['from']}_{body['to']}.{extension}"


@bp.get("/accountability.csv")
@cached_view(accountability_data_version)
def accountability_csv():
    """The accountability table as CSV (UTF-8 with BOM, so spreadsheet programs read it)."""
    body = _table_body()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in export_rows(body):
        writer.writerow(["" if v is None else formula_safe(v) if isinstance(v, str) else v
                         for v in row])
    # Flask adds "; charset=utf-8" to text types itself.
    response = current_app.response_class("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(body, "csv")}"'
    return response


@bp.get("/accountability.xlsx")
@cached_view(accountability_data_version)
def accountability_xlsx():
    """The accountability table as a workbook for people, in the chosen language.

    Translated headers, percentages and dates as real numbers and dates, verdicts and
    statuses in words, and an "about" sheet with the period and every column's definition.
    """
    table, body = _table()
    rows = [*zip(body["departments"], table.departments, strict=True),
            (body["province"], table.province)]
    fmt = Formats()  # the language looked up once, not once a row
    for row, scorecard in rows:
        # What only people need: names rather than codes, the comparison group in words.
        row["breaching_names"] = "; ".join(
            localized(s, "name", g.lang).text for s in scorecard.breaching) or None
        if scorecard.wfa is not None and scorecard.wfa.difference is not None:
            row["comparison_text"] = comparison_text(scorecard.wfa.comparison, fmt)
    workbook = accountability_workbook(
        body, DEFINITION_LIMITS,
        # From PORTAL_BASE_URL, never the Host header (the file is shared onwards).
        absolute_path(request.full_path.rstrip("?")))
    response = current_app.response_class(
        workbook,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(body, "xlsx")}"'
    return response
