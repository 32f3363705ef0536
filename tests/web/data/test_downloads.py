"""CSV downloads over HTTP: streamed, licensed, cacheable, filtered, and free of personal data."""

from __future__ import annotations

import pytest

from portal.services.feedback.citizen import tracking_code_display
from portal.services.opendata.datasets import DATASETS
from tests.factories import create_department, create_service
from tests.services.opendata.support import (
    FEEDBACK_BODY,
    FEEDBACK_SUBJECT,
    REPORTER,
    build_province,
    csv_rows,
)

CC_BY = "https://creativecommons.org/licenses/by/4.0/"
PATHS = [f"/data/{dataset.name}.csv" for dataset in DATASETS]


@pytest.fixture
def province(app):
    return build_province()


@pytest.mark.parametrize("path", PATHS)
def test_a_download_is_a_csv_with_its_licence_and_dictionary_linked(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.mimetype_params["charset"] == "utf-8"
    name = path.rsplit("/", 1)[1]
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    links = response.headers["Link"]
    assert f'<{CC_BY}>; rel="license"' in links
    assert '<http://127.0.0.1:8000/data/datapackage.json>; rel="describedby"' in links
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert "Set-Cookie" not in response.headers  # shared caches may keep it


def test_the_licence_header_follows_the_configuration(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_DATA_LICENCE_URL", "https://example.go.id/lisensi")
    response = client.get("/data/services.csv")
    assert response.headers["Link"].startswith('<https://example.go.id/lisensi>; rel="license"')


def test_a_download_is_streamed_from_a_generator(app, province):
    # The view's own answer (before the test client buffers anything): a generator body.
    with app.test_request_context("/data/service_days.csv"):
        response = app.view_functions["data.download"](name="service_days")
        assert response.is_streamed
        assert not isinstance(response.response, list | tuple | bytes)
        body = b"".join(response.response)
    with app.test_request_context("/data/datapackage.json"):
        assert not app.view_functions["data.datapackage"]().is_streamed  # a plain document
    assert body.startswith(b"service_code,date,")
    assert len(csv_rows(body)) > 1


def test_a_compressed_download_stays_streamed(client, province):
    response = client.get("/data/service_days.csv", headers={"Accept-Encoding": "zstd"},
                          buffered=False)
    assert response.headers["Content-Encoding"] == "zstd"
    assert "Content-Length" not in response.headers
    response.close()


def test_a_catalogue_download_answers_304_while_nothing_changed(client, province):
    first = client.get("/data/incidents.csv")
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    again = client.get("/data/incidents.csv", headers={"If-None-Match": etag})
    assert again.status_code == 304
    # Another selection is another file.
    other = client.get("/data/incidents.csv?service=izin-klinik")
    assert other.headers["ETag"] != etag
    # Daily figures change with time and with reports the version does not watch: no ETag.
    assert "ETag" not in client.get("/data/service_days.csv").headers


def test_filters_narrow_the_download(client, province):
    rows = csv_rows(client.get("/data/services.csv?department=dinkes").data)
    assert [r["service_code"] for r in rows] == ["izin-klinik"]
    rows = csv_rows(client.get("/data/service_days.csv?service=izin-klinik"
                               f"&from={province.today.replace(day=1).isoformat()}").data)
    assert {r["service_code"] for r in rows} <= {"izin-klinik"}


@pytest.mark.parametrize(("query", "lang", "message"), [
    ("?service=nope", "en", "service: no such code: nope"),
    ("?from=2025-13-01", "en", "from: must be a date written YYYY-MM-DD"),
    ("?from=2025-12-05&to=2025-12-01", "en", "to: must be on or after from"),
    ("?from=kemarin&lang=id", "id", "from: harus berupa tanggal dengan format YYYY-MM-DD"),
])
def test_a_bad_filter_is_answered_400_in_the_readers_language(client, province, query, lang,
                                                              message):
    response = client.get(f"/data/service_days.csv{query}",
                          headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Language"] == lang
    assert response.get_data(as_text=True).strip() == message


def test_a_filter_the_dataset_does_not_take_is_refused(client, province):
    response = client.get("/data/services.csv?from=2025-01-01",
                          headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "from" in response.get_data(as_text=True)


def test_an_unknown_dataset_is_404(client):
    assert client.get("/data/reporters.csv").status_code == 404


def test_texts_that_start_like_formulas_are_neutralised_in_every_download(client, app):
    department = create_department(code="dinas-x", name_id="=1+1", name_en="@SUM(A1)")
    create_service(department=department, code="layanan-x", name_id="-2+3",
                   name_en="+cmd|' /C calc'!A0", requirements_id="\t=evil")
    row = csv_rows(client.get("/data/services.csv").data)[0]
    assert (row["service_name_id"], row["service_name_en"]) == ("'-2+3", "'+cmd|' /C calc'!A0")
    assert row["requirements_id"] == "'\t=evil"
    departments = client.get("/data/departments.csv").data
    department_row = csv_rows(departments)[0]
    assert (department_row["department_name_id"], department_row["department_name_en"]) == (
        "'=1+1", "'@SUM(A1)")
    assert b"dinas-x,=1+1" not in departments and b"dinas-x,'=1+1," in departments


def test_no_download_holds_personal_data_feedback_text_or_tracking_codes(client, province):
    feedback = province.feedback
    assert feedback.reporter_email == REPORTER["email"]  # stored: it exists to leak
    secrets = [
        REPORTER["name"], REPORTER["email"], REPORTER["phone"],
        REPORTER["phone"].replace(" ", ""), "813998877", FEEDBACK_SUBJECT, FEEDBACK_BODY,
        feedback.tracking_code, tracking_code_display(feedback.tracking_code),
        province.admin.username,
    ]
    for path in PATHS + ["/data/datapackage.json", "/data/catalog.jsonld", "/en/data"]:
        text = client.get(path).get_data(as_text=True)
        for secret in secrets:
            assert secret.lower() not in text.lower(), (path, secret)
    # The complaint is counted all the same.
    rows = csv_rows(client.get("/data/feedback_departments.csv?department=dinkes").data)
    assert sum(int(r["submitted"]) for r in rows) == 1
