"""Catalogue import: validation, atomicity, idempotence and the public histories."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import CommitmentChange, Department, Service, WorkModeChange
from portal.services.catalogue.directory import (
    catalogue_import_file,
    department_list,
)
from portal.services.catalogue.search import MAX_PER_PAGE, service_search_page
from portal.services.errors import ValidationError

HEADER = (
    "department_code,department_name_id,department_name_en,service_code,service_name_id,"
    "service_name_en,work_mode,work_mode_since,commitment_value,commitment_unit,"
    "on_time_target,online_url"
)
ROW_PKB = (
    "bapenda,Badan Pendapatan Daerah,Regional Revenue Agency,samsat-pkb,Pembayaran PKB,"
    "Vehicle tax payment,wfa,2026-07-01,1,hours,,https://samsat.kalteng.go.id"
)
ROW_BBN = (
    "bapenda,Badan Pendapatan Daerah,Regional Revenue Agency,samsat-bbnkb,Balik Nama,"
    "Change of ownership,onsite,,3,working_days,0.95,"
)


def csv_text(*rows: str, header: str = HEADER) -> str:
    """Build a catalogue CSV from rows."""
    return "\n".join([header, *rows]) + "\n"


def count(model: type) -> int:
    """Count the rows of a table."""
    return db.session.scalar(select(func.count()).select_from(model))


def test_import_creates_departments_services_and_first_history_entries(app):
    summary = catalogue_import_file(csv_text(ROW_PKB, ROW_BBN))

    assert (summary.departments_created, summary.services_created) == (1, 2)
    pkb = db.session.scalar(select(Service).where(Service.code == "samsat-pkb"))
    assert pkb.department.name_en == "Regional Revenue Agency"
    assert (pkb.work_mode, pkb.work_mode_since) == ("wfa", date(2026, 7, 1))
    assert (pkb.commitment_value, pkb.commitment_unit, pkb.on_time_target) == (1, "hours", 0.90)
    # A WFA service with a start date was on-site before it.
    history = [(c.work_mode, c.effective_from) for c in pkb.work_mode_history]
    assert history == [("wfa", date(2026, 7, 1)), ("onsite", None)]
    bbn = db.session.scalar(select(Service).where(Service.code == "samsat-bbnkb"))
    assert bbn.on_time_target == 0.95
    assert [c.work_mode for c in bbn.work_mode_history] == ["onsite"]


def test_importing_the_same_file_twice_changes_nothing(app):
    text = csv_text(ROW_PKB, ROW_BBN)
    catalogue_import_file(text)
    before = (count(Department), count(Service), count(WorkModeChange), count(CommitmentChange))

    summary = catalogue_import_file(text)

    assert summary.services_unchanged == 2
    assert (summary.services_created, summary.services_updated) == (0, 0)
    assert summary.departments_updated == 0
    after = (count(Department), count(Service), count(WorkModeChange), count(CommitmentChange))
    assert after == before


def test_reimport_records_work_mode_and_commitment_changes_in_the_histories(app):
    catalogue_import_file(csv_text(ROW_PKB, ROW_BBN))
    relaxed = ROW_BBN.replace(
        "onsite,,3,working_days,0.95", "hybrid,2026-09-01,5,working_days,0.80"
    )

    summary = catalogue_import_file(csv_text(ROW_PKB, relaxed))

    assert summary.services_updated == 1
    bbn = db.session.scalar(select(Service).where(Service.code == "samsat-bbnkb"))
    assert (bbn.work_mode, bbn.commitment_value, bbn.on_time_target) == ("hybrid", 5, 0.80)
    assert [(c.work_mode, c.effective_from) for c in bbn.work_mode_history][0] == (
        "hybrid", date(2026, 9, 1)
    )
    commitments = [(c.commitment_value, c.on_time_target) for c in bbn.commitment_history]
    assert commitments == [(5, 0.80), (3, 0.95)]


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (ROW_BBN.replace("samsat-bbnkb", "Samsat BBNKB"), "service_code"),
        (ROW_BBN.replace("bapenda,", "b,", 1), "department_code"),
        (ROW_BBN.replace("onsite", "remote"), "work_mode"),
        (ROW_BBN.replace("onsite,,", "onsite,2026-13-01,"), "work_mode_since"),
        (ROW_BBN.replace("onsite,,", "wfa,9999-12-31,"), "work_mode_since"),
        (ROW_BBN.replace("onsite,,", "wfa,1999-12-31,"), "work_mode_since"),
        (ROW_BBN.replace(",3,working_days", ",2147483648,working_days"), "commitment_value"),
        (ROW_BBN.replace("Balik Nama", "Balik\x00Nama"), "service_name_id"),
        (ROW_BBN.replace(",3,working_days", ",three,working_days"), "commitment_value"),
        (ROW_BBN.replace(",3,working_days", ",-1,working_days"), "commitment_value"),
        (ROW_BBN.replace("working_days", "days"), "commitment_unit"),
        (ROW_BBN.replace("0.95", "1.5"), "on_time_target"),
        (ROW_BBN.replace("0.95,", "0.95,ftp://example"), "online_url"),
        (ROW_BBN.replace("Balik Nama", ""), "service_name_id"),
    ],
)
def test_a_bad_row_is_reported_with_its_line_and_nothing_is_written(app, row, field):
    with pytest.raises(ValidationError) as raised:
        catalogue_import_file(csv_text(ROW_PKB, row))

    assert [(e.index, e.field) for e in raised.value.errors] == [(3, field)]
    assert count(Service) == 0
    assert count(Department) == 0


def test_every_bad_row_is_reported_not_only_the_first(app):
    bad_mode = ROW_PKB.replace("wfa", "remote")
    bad_unit = ROW_BBN.replace("working_days", "weeks")

    with pytest.raises(ValidationError) as raised:
        catalogue_import_file(csv_text(bad_mode, bad_unit))

    assert [(e.index, e.field) for e in raised.value.errors] == [
        (2, "work_mode"), (3, "commitment_unit")
    ]


def test_an_unknown_column_is_an_error_not_silently_dropped(app):
    header = HEADER + ",opening_hours"
    with pytest.raises(ValidationError) as raised:
        catalogue_import_file(csv_text(ROW_PKB + ",x", header=header))
    assert raised.value.errors[0].field == "header"
    assert "opening_hours" in raised.value.errors[0].error
    assert count(Service) == 0


def test_a_missing_column_is_an_error(app):
    header = HEADER.replace(",online_url", "")
    with pytest.raises(ValidationError) as raised:
        catalogue_import_file(csv_text(ROW_BBN.rsplit(",", 1)[0], header=header))
    assert "online_url" in raised.value.errors[0].error


def test_a_service_code_repeated_in_one_file_is_refused(app):
    with pytest.raises(ValidationError) as raised:
        catalogue_import_file(csv_text(ROW_BBN, ROW_BBN))
    assert [(e.index, e.field) for e in raised.value.errors] == [(3, "service_code")]


def test_standard_texts_are_imported_in_both_languages(app):
    header = HEADER + ",requirements_id,requirements_en,hours_id,hours_en"
    row = ROW_BBN + ",KTP; BPKB,ID card; BPKB,Senin–Jumat 08.00–15.00 WIB,"
    catalogue_import_file(csv_text(row, header=header))
    service = db.session.scalar(select(Service))
    assert (service.requirements_id, service.requirements_en) == ("KTP; BPKB", "ID card; BPKB")
    assert service.hours_en == ""


def _found_codes(query: str = "", department_code: str = "", work_mode: str = "") -> list[str]:
    """The codes of the services the list's search finds (one page of them all)."""
    found = service_search_page(query, department_code, work_mode, per_page=MAX_PER_PAGE)
    return [row.service.code for row in found.page.items]


def test_search_filters_by_words_department_and_work_mode(app):
    catalogue_import_file(csv_text(ROW_PKB, ROW_BBN))

    assert _found_codes("vehicle TAX") == ["samsat-pkb"]
    assert _found_codes("balik") == ["samsat-bbnkb"]
    assert _found_codes(work_mode="wfa") == ["samsat-pkb"]
    assert len(_found_codes(department_code="bapenda")) == 2
    assert _found_codes(department_code="dinkes") == []
    assert [(d.code, n) for d, n in department_list()] == [("bapenda", 2)]


def test_cli_import_exits_non_zero_and_prints_each_bad_line(app, runner, tmp_path):
    path = tmp_path / "catalogue.csv"
    path.write_text(csv_text(ROW_PKB.replace("wfa", "remote"), ROW_BBN), encoding="utf-8")

    result = runner.invoke(args=["catalogue", "import", str(path)])

    assert result.exit_code == 1
    assert "line 2: work_mode" in result.output
    assert count(Service) == 0


def test_cli_import_succeeds_and_reports_counts(app, runner, tmp_path):
    path = tmp_path / "catalogue.csv"
    path.write_text(csv_text(ROW_PKB, ROW_BBN), encoding="utf-8")

    result = runner.invoke(args=["catalogue", "import", str(path)])

    assert result.exit_code == 0, result.output
    assert "2 created" in result.output
    assert count(Service) == 2


# Optional first-response commitment -----------------------------------------------------------

FIRST_HEADER = HEADER + ",first_response_value,first_response_unit"


def _service(code: str) -> Service:
    db.session.expire_all()
    return db.session.scalar(select(Service).where(Service.code == code))


def test_first_response_columns_are_optional_and_empty_means_no_commitment(app):
    catalogue_import_file(csv_text(ROW_PKB + ",2,hours", ROW_BBN + ",,", header=FIRST_HEADER))
    pkb, bbn = _service("samsat-pkb"), _service("samsat-bbnkb")
    assert (pkb.first_response_value, pkb.first_response_unit) == (2, "hours")
    assert (bbn.first_response_value, bbn.first_response_unit) == (None, None)
    first = pkb.commitment_history[-1]
    assert (first.first_response_value, first.first_response_unit) == (2, "hours")


def test_a_file_without_first_response_columns_keeps_existing_ones(app):
    catalogue_import_file(csv_text(ROW_PKB + ",2,hours", header=FIRST_HEADER))
    summary = catalogue_import_file(csv_text(ROW_PKB))
    assert summary.services_unchanged == 1
    assert _service("samsat-pkb").first_response_value == 2


def test_a_changed_first_response_commitment_is_recorded_in_the_history(app):
    catalogue_import_file(csv_text(ROW_PKB + ",2,hours", header=FIRST_HEADER))
    summary = catalogue_import_file(csv_text(ROW_PKB + ",1,working_days", header=FIRST_HEADER))
    assert summary.services_updated == 1
    pkb = _service("samsat-pkb")
    assert (pkb.first_response_value, pkb.first_response_unit) == (1, "working_days")
    assert [(c.first_response_value, c.reason) for c in pkb.commitment_history] == [
        (1, "catalogue import"), (2, "")]


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        (",2,", "first_response_unit"),
        (",,hours", "first_response_value"),
        (",-1,hours", "first_response_value"),
        (",two,hours", "first_response_value"),
        (",2,days", "first_response_unit"),
    ],
)
def test_an_incomplete_or_invalid_first_response_commitment_is_refused(app, cells, field):
    with pytest.raises(ValidationError) as caught:
        catalogue_import_file(csv_text(ROW_PKB + cells, header=FIRST_HEADER))
    assert [(e.index, e.field) for e in caught.value.errors] == [(2, field)]
    assert count(Service) == 0
