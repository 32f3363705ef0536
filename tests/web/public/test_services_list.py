"""The services list and API: search people's words, pointers, empty results, pages; and the
service page's "where to go"."""

from __future__ import annotations

import gzip
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from portal.services.catalogue.directory import catalogue_import_file
from portal.services.catalogue.pointers import pointer_import_file
from portal.services.demo.load import DEMO_CATALOGUE, DEMO_POINTERS
from tests.factories import create_department, create_service

CARD_LINK = re.compile(r'<h2 class="card-title"><a href="/(?:id|en)/services/([a-z0-9-]+)"')


@pytest.fixture
def demo_catalogue(app):
    catalogue_import_file(DEMO_CATALOGUE.read_text(encoding="utf-8"))
    pointer_import_file(DEMO_POINTERS.read_text(encoding="utf-8"))


def html_of(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def listed(html: str) -> list[str]:
    return CARD_LINK.findall(html)


def test_samsat_and_pajak_find_the_vehicle_services(client, demo_catalogue):
    assert set(listed(html_of(client, "/id/services?q=samsat"))) == {
        "samsat-pkb-tahunan", "samsat-stnk-lima-tahunan", "samsat-balik-nama"}
    found = listed(html_of(client, "/id/services?q=pajak"))
    assert set(found[:3]) == {"samsat-pkb-tahunan", "samsat-stnk-lima-tahunan",
                              "samsat-balik-nama"}


@pytest.mark.parametrize(("path", "topic", "where"), [
    ("/id/services?q=KTP", "KTP-el, Kartu Keluarga (KK)",
     "Dinas Kependudukan dan Pencatatan Sipil (Disdukcapil) kabupaten/kota"),
    ("/id/services?q=e-ktp", "KTP-el, Kartu Keluarga (KK)", "Disdukcapil"),
    ("/en/services?q=ID+card", "Identity card (KTP-el)",
     "The Population and Civil Registration Office (Disdukcapil) of the regency or city"),
])
def test_ktp_points_to_the_regency_disdukcapil(client, demo_catalogue, path, topic, where):
    html = html_of(client, path)
    section = html.split('class="pointers"', 1)[1].split("</section>", 1)[0]
    assert topic in section and where in section
    assert 'href="https://dukcapil.kemendagri.go.id"' in section


def test_an_empty_result_says_what_to_try_and_lists_the_departments(client, demo_catalogue):
    html = html_of(client, "/en/services?q=xyzzy&mode=wfa")
    assert "0 services found" in html
    assert "No service matches" in html
    assert 'href="/en/services?q=xyzzy"' in html  # the same search without the filter
    section = html.split('class="no-results"', 1)[1].split("</section>", 1)[0]
    assert 'href="/en/departments/bapenda"' in section and "(Bapenda)" in section
    assert 'href="/en/departments/inspektorat"' in section
    assert 'class="pointers"' not in html


def test_a_word_no_service_has_is_named_and_left_out(client, demo_catalogue):
    html = html_of(client, "/en/services?q=cara+bayar+pajak")
    assert "cara" in html.split('role="status"', 1)[1].split("</p>", 2)[1]
    assert "samsat-pkb-tahunan" in listed(html)


def _next_link(html: str) -> str | None:
    match = re.search(r'<a rel="next" href="([^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def test_the_list_pages_with_its_filters_kept(client, demo_catalogue):
    html = html_of(client, "/en/services")
    assert len(listed(html)) == 25
    assert "70 services found" in html and "showing 1–25" in html

    seen, path = [], "/en/services?q=pengaduan&per_page=3"
    while path:
        html = html_of(client, path)
        seen += listed(html)
        path = _next_link(html)
        if path:
            query = parse_qs(urlsplit(path).query)
            assert (query["q"], query["per_page"]) == (["pengaduan"], ["3"])
    assert len(seen) == len(set(seen)) > 3
    assert set(seen) == set(listed(html_of(client, "/en/services?q=pengaduan&per_page=200")))


def test_per_page_is_capped_at_200_on_the_page(client, demo_catalogue):
    html = html_of(client, "/en/services?per_page=100000&page=abc")
    assert len(listed(html)) == 70


def test_the_list_of_a_thousand_services_stays_small(client, app):
    rows = ["department_code,department_name_id,department_name_en,service_code,"
            "service_name_id,service_name_en,work_mode,work_mode_since,commitment_value,"
            "commitment_unit,on_time_target,online_url"]
    for n in range(1000):
        rows.append(f"dinas-{n % 40},Dinas Kabupaten {n % 40},Regency Office {n % 40},"
                    f"layanan-{n},Layanan Perizinan Kabupaten Nomor {n},"
                    f"Regency Licensing Service Number {n},onsite,,5,working_days,,")
    catalogue_import_file("\n".join(rows) + "\n")
    for path in ("/id/services", "/en/services?per_page=200", "/id/services?q=layanan"):
        packed = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert packed.status_code == 200
        assert len(packed.data) <= 50 * 1024, (path, len(packed.data))
        assert len(listed(gzip.decompress(packed.data).decode())) in (25, 200)
    answer = client.get("/api/v1/services?per_page=200").json
    assert answer["total"] == 1000 and len(answer["services"]) == 200
    assert answer["next"].endswith("page=2")


def test_api_pages_with_next_and_prev_links(client, demo_catalogue):
    first = client.get("/api/v1/services?q=pengaduan&per_page=2&lang=en").json
    assert (first["page"], first["per_page"], first["prev"]) == (1, 2, None)
    assert first["total"] > 4 and first["pages"] == -(-first["total"] // 2)
    next_url = urlsplit(first["next"])
    assert next_url.scheme in ("http", "https") and next_url.path == "/api/v1/services"
    assert parse_qs(next_url.query) == {"q": ["pengaduan"], "per_page": ["2"], "lang": ["en"],
                                        "page": ["2"]}
    codes, answer = [], first
    while True:
        codes += [s["code"] for s in answer["services"]]
        if answer["next"] is None:
            break
        url = urlsplit(answer["next"])
        answer = client.get(f"{url.path}?{url.query}").json
        assert urlsplit(answer["prev"]).query
    assert len(codes) == len(set(codes)) == first["total"]
    # Ranked: the services named with the word come before those that only mention it.
    assert client.get("/api/v1/services?q=samsat").json["total"] == 3


@pytest.mark.parametrize("query", ["per_page=201", "per_page=0", "per_page=ten", "page=0",
                                   "page=-1", "page=100000"])
def test_api_refuses_a_page_it_cannot_serve_with_a_400(client, demo_catalogue, query):
    answer = client.get(f"/api/v1/services?{query}&lang=en")
    assert answer.status_code == 400
    assert answer.mimetype == "application/problem+json"
    field = query.split("=")[0]
    assert [(e["field"], e["code"]) for e in answer.json["errors"]] == [(field, "out_of_range")]
    high = 200 if field == "per_page" else 99999
    assert answer.json["errors"][0]["message"] == f"must be a whole number from 1 to {high}"


def test_api_filters_by_status(client, demo_catalogue):
    answer = client.get("/api/v1/services?status=no_data&per_page=200").json
    assert answer["total"] == 70  # nothing reported yet: every service shows no data
    assert client.get("/api/v1/services?status=meeting").json["total"] == 0
    assert client.get("/api/v1/services?status=great").status_code == 422


def test_service_page_says_where_to_go(client, demo_catalogue):
    html = html_of(client, "/en/services/samsat-pkb-tahunan")
    section = html.split('class="where-to-go"', 1)[1].split("</section>", 1)[0]
    # The service's own office (Samsat), not the department's.
    assert "Kantor Bersama Samsat Palangka Raya, Jl. Tjilik Riwut Km 3,5" in section
    assert '<a href="tel:+625363226015">(0536) 3226015</a>' in section
    assert "Monday–Thursday 08.00–14.00 WIB" in section
    assert ('href="https://www.openstreetmap.org/?mlat=-2.19210&amp;mlon=113.89570'
            '#map=17/-2.19210/113.89570"') in section
    assert "<iframe" not in html and "tile.openstreetmap" not in html


def test_service_page_falls_back_on_the_department_office(client, demo_catalogue):
    html = html_of(client, "/id/services/dinkes-pbf-cabang")
    section = html.split('class="where-to-go"', 1)[1].split("</section>", 1)[0]
    assert "Jl. Yos Sudarso No. 9, Palangka Raya 73112" in section
    assert 'href="tel:+625363221361"' in section
    assert "mlat=-2.21630&amp;mlon=113.90500" in section
    assert "Kesehatan" not in section or "Alamat" in section


def test_service_page_without_any_place_has_no_where_to_go(client, app):
    department = create_department(code="dinas-x", name_id="Dinas X")
    create_service(code="layanan-x", name_id="Layanan X", department=department)
    assert 'class="where-to-go"' not in html_of(client, "/id/services/layanan-x")


def test_department_page_says_where_its_office_is(client, demo_catalogue):
    html = html_of(client, "/en/departments/dinkes")
    section = html.split('class="where-to-go"', 1)[1].split("</section>", 1)[0]
    assert "Jl. Yos Sudarso No. 9, Palangka Raya 73112" in section
    assert "Monday–Thursday 07.30–16.00 WIB" in section
    assert 'href="tel:+625363221361"' in section
