"""The accountability pages' long tables and charts, built as HTML in Python (present.py).

Names, reasons and labels typed by staff must reach the page escaped, in every table and
chart that prints them, as the templates' autoescaping did.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.domain.calendar import utc_now, wib_date
from portal.extensions import db
from portal.models import WorkModeChange
from tests.factories import create_department
from tests.wfa_support import create_due_service, report_due

DEPARTMENT = 'Office <b>"A" & B</b>'
SERVICE = "Permit <script>alert(1)</script>"
REASON = "Moved <i>remote</i> & faster"


@pytest.fixture
def marked_scene(app):
    """A department and a moved service whose name and change reason hold markup."""
    today = wib_date(utc_now())
    department = create_department(code="tanda", name_id=DEPARTMENT, name_en=DEPARTMENT,
                                   dprd_commission="I")
    service = create_due_service(department=department, code="izin-tanda",
                                 name_id=SERVICE, name_en=SERVICE)
    change = today - timedelta(days=100)
    service.work_mode_history.append(WorkModeChange(
        work_mode="wfa", effective_from=change, recorded_by="admin-1", reason=REASON))
    service.work_mode, service.work_mode_since = "wfa", change
    db.session.commit()
    report_due(service, change - timedelta(days=40), on_time=57, late=3)
    report_due(service, change + timedelta(days=40), on_time=30, open_=30)


def _escaped(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;"))


@pytest.mark.parametrize(("path", "names", "reason"), [
    # The services table.
    ("/en/accountability/departments/tanda", 1, False),
    # The WFA table, the comparison table, the sentences and the chart's title (no net
    # chart: no service of the department stayed on-site).
    ("/en/accountability/departments/tanda/wfa-impact", 4, False),
    # The history.
    ("/en/accountability/departments/tanda/changes", 1, True),
    # All of them.
    ("/id/accountability/departments/tanda/report", 7, True),
])
def test_scorecard_escapes_names_and_reasons_in_every_table_and_chart(client, marked_scene,
                                                                      path, names, reason):
    html = client.get(path).get_data(as_text=True)
    assert "<script>" not in html and "<i>remote</i>" not in html
    assert html.count(_escaped(SERVICE)) >= names
    if reason:
        assert _escaped(REASON) in html


@pytest.mark.parametrize("path", ["/en/accountability", "/id/accountability/report"])
def test_province_table_escapes_department_names_in_its_tables_and_chart(client,
                                                                          marked_scene, path):
    html = client.get(path).get_data(as_text=True)
    assert "<b>" not in html
    # The key figures, the services and performance, the feedback tables and the chart.
    assert html.count(_escaped(DEPARTMENT)) >= 4
