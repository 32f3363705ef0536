"""A service page's figures (portal/services/catalogue/public_figures.py service_figures)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from portal.domain.calendar import utc_now
from portal.extensions import db
from portal.models import Maintenance
from portal.services.catalogue.public_figures import service_figures
from portal.services.metrics.incidents import incident_list, maintenance_list
from portal.services.metrics.status import status_with_report
from tests.services.catalogue.test_tallies import province  # noqa: F401 (a fixture)


def test_a_service_pages_status_and_notices_are_those_of_their_own_reads(province):  # noqa: F811
    # One statement reads the status, the last report and whether there are open incidents
    # or current maintenance: what the service page shows is what each read gives alone.
    now = utc_now()
    works = Maintenance(title_id="Pemeliharaan", created_by="staf",
                        starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=2))
    works.services.append(province[0])
    db.session.add(works)
    db.session.commit()
    for service in province:
        figures = service_figures(service)
        assert (figures.status, figures.last_reported_at) == status_with_report(service.id)
        assert figures.incidents == incident_list(service=service, include_resolved=False)
        assert figures.maintenance == maintenance_list(service=service, when="current", now=now)
    assert any(service_figures(s).incidents for s in province)
    assert service_figures(province[0]).maintenance == [works]


def test_a_service_page_reads_its_status_and_notices_in_one_statement(province):  # noqa: F811
    statements: list[str] = []

    def watch(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    service = province[0]
    # What the page's own read of the service loads (portal.services.catalogue.directory).
    assert service.online_url is not None and service.work_mode_history is not None
    event.listen(db.engine, "before_cursor_execute", watch)
    try:
        figures = service_figures(service)
    finally:
        event.remove(db.engine, "before_cursor_execute", watch)
    # The status with its notices, the days, and what is counted from the requests now.
    assert len(statements) == 3
    assert not figures.incidents and not figures.maintenance
