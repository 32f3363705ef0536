"""GET discovery, services and services/CODE in both formats, and the errors around them."""

from __future__ import annotations

import re

import pytest

from tests.factories import create_service
from tests.web.open311.conftest import as_text, read, root_tag

FORMATS = ("json", "xml")


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_names_the_one_production_endpoint_and_both_formats(client, app, fmt):
    response = client.get(f"/open311/v2/discovery.{fmt}")
    assert response.status_code == 200
    document = read(response, fmt)
    if fmt == "xml":
        assert root_tag(response) == "discovery"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", document["changeset"])
    assert app.config["PORTAL_OPEN311_CONTACT"] in document["contact"]
    assert app.config["PORTAL_OPEN311_CONTACT"] in document["key_service"]
    [endpoint] = document["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == app.config["PORTAL_BASE_URL"].rstrip("/") + "/open311/v2"
    assert endpoint["type"] == "production"
    assert sorted(endpoint["formats"]) == ["application/json", "text/xml"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_list_every_catalogue_service_in_the_asked_language(client, world, fmt):
    create_service(code="dukcapil-ktp", name_id="KTP Elektronik", name_en="Electronic ID card",
                   work_mode="wfa", commitment_value=8, commitment_unit="hours")
    english = read(client.get(f"/open311/v2/services.{fmt}?lang=en"), fmt)
    by_code = {service["service_code"]: service for service in english}
    assert set(by_code) == {"samsat-pkb", "dukcapil-ktp"}
    samsat = by_code["samsat-pkb"]
    assert samsat["service_name"] == "Vehicle tax"
    assert samsat["group"] == "Regional Revenue Agency"
    assert samsat["description"] == (
        "Department: Regional Revenue Agency. Work mode: On-site. Commitment: Completed "
        "within 5 working days, 90% of requests on time.")
    assert str(samsat["metadata"]).lower() == "true"
    assert samsat["type"] == "realtime"
    assert "Pajak Kendaraan" in samsat["keywords"].split(", ")
    assert "bapenda" in samsat["keywords"].split(", ")
    assert "Completed within 8 hours" in by_code["dukcapil-ktp"]["description"]

    indonesian = read(client.get(f"/open311/v2/services.{fmt}"), fmt)
    samsat_id = next(s for s in indonesian if s["service_code"] == "samsat-pkb")
    assert (samsat_id["service_name"], samsat_id["group"]) == (
        "Pajak Kendaraan", "Badan Pendapatan Daerah")


def test_the_xml_holds_what_the_json_holds(client, world):
    for path in ("discovery", "services", "services/samsat-pkb"):
        json_document = read(client.get(f"/open311/v2/{path}.json?lang=en"), "json")
        xml_document = read(client.get(f"/open311/v2/{path}.xml?lang=en"), "xml")
        assert xml_document == as_text(json_document), path


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_definition_asks_for_the_attributes_of_feedback(client, world, fmt):
    response = client.get(f"/open311/v2/services/samsat-pkb.{fmt}?lang=en")
    assert response.status_code == 200
    if fmt == "xml":
        assert root_tag(response) == "service_definition"
    definition = read(response, fmt)
    assert definition["service_code"] == "samsat-pkb"
    attributes = {a["code"]: a for a in definition["attributes"]}
    assert [a["code"] for a in definition["attributes"]] == [
        "kind", "regency", "anonymous", "confidential", "publish", "integrity"]
    assert [str(a["order"]) for a in definition["attributes"]] == [
        "1", "2", "3", "4", "5", "6"]
    assert {a["datatype"] for a in definition["attributes"]} == {"singlevaluelist"}
    assert str(attributes["kind"]["required"]).lower() == "true"
    assert str(attributes["regency"]["required"]).lower() == "false"
    assert [(v["key"], v["name"]) for v in attributes["kind"]["values"]] == [
        ("complaint", "Complaint"), ("suggestion", "Suggestion"), ("question", "Question"),
        ("compliment", "Compliment")]
    regencies = {v["key"]: v["name"] for v in attributes["regency"]["values"]}
    assert len(regencies) == 14
    assert regencies["62.71"] == "Kota Palangka Raya"
    assert regencies["62.03"] == "Kabupaten Kapuas"
    for code in ("anonymous", "confidential", "publish", "integrity"):
        assert [v["key"] for v in attributes[code]["values"]] == ["true", "false"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_service_is_a_404_error_list(client, world, fmt):
    response = client.get(f"/open311/v2/services/tidak-ada.{fmt}?lang=en")
    assert response.status_code == 404
    if fmt == "xml":
        assert root_tag(response) == "errors"
    assert read(response, fmt) == [
        {"code": 404 if fmt == "json" else "404",
         "description": "There is no service with this code."}]


def test_error_descriptions_are_in_the_asked_language_indonesian_by_default(client, world):
    english = client.get("/open311/v2/services/tidak-ada.json?lang=en").get_json()
    indonesian = client.get("/open311/v2/services/tidak-ada.json").get_json()
    assert english[0]["description"] == "There is no service with this code."
    assert indonesian[0]["description"] == "Tidak ada layanan dengan kode ini."


@pytest.mark.parametrize("path", ["discovery", "services", "services/samsat-pkb", "requests"])
def test_the_configured_jurisdiction_is_served_and_any_other_is_a_404(client, world, path):
    assert client.get(f"/open311/v2/{path}.json?jurisdiction_id=kalteng.go.id").status_code \
        == 200
    response = client.get(f"/open311/v2/{path}.xml?jurisdiction_id=sfgov.org&lang=en")
    assert response.status_code == 404
    assert read(response, "xml") == [{
        "code": "404", "description": "This endpoint serves only the jurisdiction kalteng.go.id."
    }]


def test_answers_set_no_cookie_and_are_revalidated(client, world):
    response = client.get("/open311/v2/services.json?lang=en")
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-cache"


def test_services_sharing_a_department_and_a_commitment_keep_their_own_texts(client, world):
    department = world.service.department
    create_service(code="samsat-bbn", name_id="Balik Nama", name_en="Ownership transfer",
                   department=department, work_mode="wfa")
    create_service(code="samsat-stnk", name_id="Perpanjangan STNK", name_en="",
                   department=department, work_mode="hybrid", commitment_value=8,
                   commitment_unit="hours")
    english = {s["service_code"]: s for s in read(
        client.get("/open311/v2/services.json?lang=en"), "json")}
    assert english["samsat-bbn"]["keywords"] == "Balik Nama, bapenda, WFA"
    assert english["samsat-bbn"]["description"] == (
        "Department: Regional Revenue Agency. Work mode: Work from anywhere (WFA). "
        "Commitment: Completed within 5 working days, 90% of requests on time.")
    assert english["samsat-pkb"]["keywords"] == "Pajak Kendaraan, bapenda, On-site"
    # No English name: the Indonesian one, which is also its other-language keyword.
    assert english["samsat-stnk"]["service_name"] == "Perpanjangan STNK"
    assert english["samsat-stnk"]["description"] == (
        "Department: Regional Revenue Agency. Work mode: Hybrid. Commitment: Completed "
        "within 8 hours, 90% of requests on time.")
    assert {s["group"] for s in english.values()} == {"Regional Revenue Agency"}
    indonesian = [s["service_code"] for s in read(client.get("/open311/v2/services.json"),
                                                   "json")]
    assert indonesian == ["samsat-bbn", "samsat-pkb", "samsat-stnk"]  # by Indonesian name
