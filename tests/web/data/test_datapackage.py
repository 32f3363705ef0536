"""The data dictionary holds against the real downloads: frictionless validates them all."""

from __future__ import annotations

import json
from pathlib import Path

import frictionless
import pytest

from portal.services.opendata.datasets import DATASETS
from tests.services.opendata.support import build_province, csv_rows


def _download_all(client, folder: Path) -> dict:
    """Save the data package and every CSV it names, as the test client gets them."""
    package = client.get("/data/datapackage.json")
    assert package.status_code == 200
    (folder / "datapackage.json").write_bytes(package.data)
    descriptor = json.loads(package.data)
    for resource in descriptor["resources"]:
        # The path resolves against the package's address: /data/<name>.csv.
        response = client.get(f"/data/{resource['path']}")
        assert response.status_code == 200, resource["name"]
        (folder / resource["path"]).write_bytes(response.data)
    return descriptor


def _errors(report: frictionless.Report) -> list:
    return report.flatten(["taskName", "rowNumber", "fieldName", "type", "message"])


def test_every_download_is_valid_against_the_data_package(client, tmp_path):
    build_province()
    descriptor = _download_all(client, tmp_path)
    assert [r["name"] for r in descriptor["resources"]] == [d.name for d in DATASETS]
    for resource in descriptor["resources"]:
        rows = csv_rows((tmp_path / resource["path"]).read_bytes())
        # Every dataset has rows here, so the validation below checks values, not headers.
        assert rows, f"{resource['name']} is empty"
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert report.valid, _errors(report)


@pytest.mark.parametrize(("resource", "column", "value", "error"), [
    ("service_days", "on_time_rate", "1.5", "constraint-error"),  # a rate above 1
    ("service_days", "service_code", "no-such-service", "foreign-key"),
    ("services", "work_mode", "remote", "constraint-error"),  # not a work-mode code
    ("services", "status_computed_at", "10/12/2025", "type-error"),  # not ISO 8601
])
def test_the_validation_catches_a_file_that_breaks_the_dictionary(
        client, tmp_path, resource, column, value, error):
    build_province()
    _download_all(client, tmp_path)
    path = tmp_path / f"{resource}.csv"
    rows = csv_rows(path.read_bytes())
    rows[0][column] = value
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(row[name] for name in header) for row in rows]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert not report.valid
    assert {e[3] for e in _errors(report)} == {error}


def test_every_column_is_described_in_english_and_indonesian(client):
    descriptor = client.get("/data/datapackage.json").get_json()
    assert descriptor["licenses"] == [{"path": "https://creativecommons.org/licenses/by/4.0/",
                                       "title": "CC BY 4.0"}]
    assert descriptor["title"] and descriptor["title_id"]
    for resource, dataset in zip(descriptor["resources"], DATASETS, strict=True):
        assert resource["path"] == f"{dataset.name}.csv"
        assert resource["title"] and resource["title_id"]
        assert resource["description"] and resource["description_id"]
        schema = resource["schema"]
        assert [f["name"] for f in schema["fields"]] == dataset.header
        assert schema["primaryKey"] == list(dataset.primary_key)
        for field in schema["fields"]:
            assert field["description"] and field["description_id"], field["name"]
    fields = {f["name"]: f for f in descriptor["resources"][4]["schema"]["fields"]}
    assert fields["on_time_rate"]["unit"] == "fraction"
    assert fields["on_time_rate"]["constraints"] == {"minimum": 0, "maximum": 1}
    assert fields["median_completion_hours"]["unit"] == "hours"
    assert descriptor["resources"][4]["schema"]["foreignKeys"] == [
        {"fields": ["service_code"],
         "reference": {"resource": "services", "fields": ["service_code"]}}]


def test_the_data_package_follows_the_configured_licence(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_DATA_LICENCE_URL",
                        "https://creativecommons.org/publicdomain/zero/1.0/")
    monkeypatch.setitem(app.config, "PORTAL_DATA_LICENCE_NAME", "CC0 1.0")
    descriptor = client.get("/data/datapackage.json").get_json()
    assert descriptor["licenses"] == [
        {"path": "https://creativecommons.org/publicdomain/zero/1.0/", "title": "CC0 1.0"}]
