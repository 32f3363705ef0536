"""Commands for integrity reports: phrases (add, list, remove) and the integrity unit."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Department, IntegrityPhrase
from tests.factories import create_department


def test_integrity_commands_keep_phrases_and_set_the_unit(runner, app):
    create_department(code="inspektorat")
    added = runner.invoke(args=["routing", "add-integrity", "uang pelicin"])
    assert added.exit_code == 0, added.output
    item = db.session.scalar(select(IntegrityPhrase))
    assert item.phrase == "uang pelicin"
    assert f"integrity phrase {item.id}: 'uang pelicin'" in added.output

    unit = runner.invoke(args=["routing", "integrity-unit", "inspektorat"])
    assert unit.exit_code == 0, unit.output
    assert db.session.scalar(
        select(Department.code).where(Department.is_integrity_unit)) == "inspektorat"

    listing = runner.invoke(args=["routing", "list-integrity"])
    assert "integrity unit: inspektorat" in listing.output
    assert f"{item.id}\tuang pelicin" in listing.output
    assert "integrity unit: inspektorat" in runner.invoke(args=["routing", "list"]).output

    removed = runner.invoke(args=["routing", "remove-integrity", str(item.id)])
    assert removed.exit_code == 0, removed.output
    assert db.session.scalar(select(IntegrityPhrase)) is None


def test_integrity_commands_refuse_in_english(runner, app):
    missing = runner.invoke(args=["routing", "integrity-unit", "nothing"])
    assert missing.exit_code == 1
    assert "no department with code 'nothing'" in missing.output
    empty = runner.invoke(args=["routing", "add-integrity", "  !! "])
    assert empty.exit_code == 1
    assert "must contain at least one letter or digit" in empty.output
    assert runner.invoke(args=["routing", "remove-integrity", "99"]).exit_code == 1
