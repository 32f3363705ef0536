"""The data page lists every dataset with its columns and downloads; every page names the
licence in its footer."""

from __future__ import annotations

import re
from datetime import timedelta

from portal.domain.calendar import utc_now, wib_date
from portal.services.opendata.datasets import DATASETS
from tests.services.opendata.support import build_province

LICENCE_LINK = '<a rel="license" href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>'


def test_the_data_page_lists_every_dataset_with_its_columns_and_download(client, app):
    build_province()
    response = client.get("/en/data")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script" not in html
    for dataset in DATASETS:
        assert f'<h2 id="{dataset.name}">' in html
        assert f'href="/data/{dataset.name}.csv"' in html
        for field in dataset.fields:
            assert f"<code>{field.name}</code>" in html, field.name
    # Columns are explained in the page's language, with their type and unit.
    assert "Requests received on this day." in html
    assert "share from 0 to 1" in html
    assert LICENCE_LINK in html
    assert 'href="/data/datapackage.json"' in html and 'href="/data/catalog.jsonld"' in html
    # Filter examples use a real service and department, and last month.
    assert 'href="/data/service_days.csv?service=izin-klinik"' in html
    last_month_end = wib_date(utc_now()).replace(day=1) - timedelta(days=1)
    period = (f"/data/feedback_departments.csv?department=bapenda&amp;"
              f"from={last_month_end.replace(day=1).isoformat()}&amp;"
              f"to={last_month_end.isoformat()}")
    assert f'href="{period}"' in html


def test_the_data_page_says_which_period_each_dataset_covers(client):
    empty = client.get("/en/data").get_data(as_text=True)
    assert "No data yet." in empty
    province = build_province()
    html = client.get("/en/data").get_data(as_text=True)
    section = html.split('<h2 id="service_days">', 1)[1].split("</section>", 1)[0]
    first = f"{province.first_day.day} {province.first_day:%B %Y}"
    assert re.search(rf"From {first} to \d+ \w+ \d{{4}}\.", section), section
    services = html.split('<h2 id="services">', 1)[1].split("</section>", 1)[0]
    assert "As it is when you download it." in services


def test_the_data_page_exists_in_indonesian(client):
    response = client.get("/id/data")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="id">' in html
    assert "<code>service_code</code>" in html
    assert 'href="/data/services.csv"' in html


def test_the_data_page_is_a_cacheable_public_page(client):
    first = client.get("/en/data")
    assert first.headers["ETag"]
    again = client.get("/en/data", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_every_page_footer_names_the_licence_and_links_the_data(app, client, monkeypatch):
    html = client.get("/en/services").get_data(as_text=True)
    footer = html.split('<footer class="site-footer">', 1)[1]
    assert LICENCE_LINK in footer
    assert 'href="/en/data"' in footer
    monkeypatch.setitem(app.config, "PORTAL_DATA_LICENCE_URL", "https://example.go.id/lisensi")
    monkeypatch.setitem(app.config, "PORTAL_DATA_LICENCE_NAME", "Lisensi Data Kalteng")
    footer = client.get("/id/").get_data(as_text=True).split('<footer', 1)[1]
    assert ('<a rel="license" href="https://example.go.id/lisensi">Lisensi Data Kalteng</a>'
            in footer)
    assert 'href="/id/data"' in footer
