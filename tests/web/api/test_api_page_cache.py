"""A service's metrics and WFA impact through the API are kept by the page cache (computed
once for repeated requests), and a department's next report shows in them at once."""

from __future__ import annotations

from datetime import timedelta

from portal.domain.calendar import utc_now, wib_date
from portal.web.api import accountability as api_accountability
from portal.web.api import services as api_services
from tests.accountability_support import move
from tests.conftest import a_second_later
from tests.wfa_support import create_due_service, report_due


def _counting(monkeypatch, module, name: str) -> list:
    """Count the calls of a module's function (it still answers as before)."""
    calls: list = []
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_metrics_answers_are_kept_until_the_next_report(client, cached, monkeypatch):
    today = wib_date(utc_now())
    service = create_due_service(code="izin")
    report_due(service, today - timedelta(days=3), on_time=3, late=1)
    computed = _counting(monkeypatch, api_services, "metrics_for_service")
    path = f"/api/v1/services/izin/metrics?from={today - timedelta(days=29)}&to={today}"

    first = client.get(path)
    assert first.status_code == 200 and first.get_json()["due"] == 4
    assert client.get(path).data == first.data
    assert len(computed) == 1

    report_due(service, today - timedelta(days=2), on_time=5)
    a_second_later()

    assert client.get(path).get_json()["due"] == 9
    assert len(computed) == 2


def test_wfa_impact_answers_are_kept_until_the_next_report(client, cached, monkeypatch):
    today = wib_date(utc_now())
    change = today - timedelta(days=100)
    service = create_due_service(code="pindah")
    move(service, "wfa", change)
    report_due(service, change - timedelta(days=95), on_time=1)
    report_due(service, change - timedelta(days=30), on_time=54, late=6)
    computed = _counting(monkeypatch, api_accountability, "wfa_impact_for_code")
    path = "/api/v1/services/pindah/wfa-impact"

    before = client.get(path).get_json()
    assert client.get(path).get_json() == before
    assert len(computed) == 1

    report_due(service, change + timedelta(days=30), on_time=30, open_=30)
    a_second_later()

    after = client.get(path).get_json()
    assert after["after"]["due"] == before["after"]["due"] + 60
    assert len(computed) == 2
