"""Guards of the project itself: migrations, translations, templates, lint."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from portal import create_app
from portal.extensions import db
from tests.conftest import fresh_database_url, make_test_config

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "portal" / "templates"
CATALOGUES = sorted((ROOT / "translations").glob("*/LC_MESSAGES/messages.po"))


def test_migrations_have_a_single_head():
    heads = ScriptDirectory(str(ROOT / "migrations")).get_heads()
    assert len(heads) == 1, heads


def test_migrations_upgrade_an_empty_database_to_exactly_the_models(tmp_path):
    from flask_migrate import upgrade

    app = create_app(make_test_config(SQLALCHEMY_DATABASE_URI=fresh_database_url("migr", tmp_path)))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
        db.engine.dispose()
    assert diff == []


def test_imports_keep_the_layer_contracts_and_make_no_cycle():
    """web|cli -> services -> models -> domain, the service areas in order, no cycles."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


def test_there_is_an_indonesian_catalogue():
    assert [p.parent.parent.name for p in CATALOGUES] == ["id"]


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_catalogue_has_no_missing_or_fuzzy_message(po_path):
    with po_path.open("rb") as handle:
        catalogue = read_po(handle)
    bad = []
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(s.strip() for s in strings):
            bad.append(message.id)
    assert bad == []


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_catalogue_holds_every_string_of_the_source(po_path, tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-o", str(pot), "portal"],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as handle:
        source = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    with po_path.open("rb") as handle:
        translated = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert sorted(source - translated) == []


def _key(value: str | tuple | list) -> str | tuple:
    """Make a message id or string comparable (plural forms come as lists or tuples)."""
    return value if isinstance(value, str) else tuple(value)


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_compiled_catalogue_matches_its_source(po_path):
    with po_path.open("rb") as handle:
        po = {_key(m.id): _key(m.string) for m in read_po(handle) if m.id}
    with po_path.with_suffix(".mo").open("rb") as handle:
        mo = {_key(m.id): _key(m.string) for m in read_mo(handle) if m.id}
    assert mo == po, "run: flask --app wsgi translate compile"


JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
TRANS_BLOCK = re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", re.S)
TAG = re.compile(r"<[^>]*>", re.S)
TEXT_ATTRIBUTES = re.compile(r'\b(?:aria-label|title|alt|placeholder)="([^"]*)"')
# Text a translator has nothing to do with: symbols, brand, units and protocol words.
ALLOWED = re.compile(r"^[\s·›»«→—–\-|/:,.()%+0-9×✓]*$")
ALLOWED_WORDS = {"Pantau", "Layanan", "WIB", "SP4N-LAPOR!", "IKM", "SKM", "DPRD", "WFA",
                 "Atom", "CSV", "XLSX", "PDF", "JSON", "Open311", "RSS", "N/A"}


def _unmarked_text(source: str) -> list[str]:
    """Return the visible text of a template that is outside _() and {% trans %}."""
    source = TRANS_BLOCK.sub(" ", source)
    source = re.sub(r"<(script|style)\b.*?</\1>", " ", source, flags=re.S)
    found = []
    for value in TEXT_ATTRIBUTES.findall(source):
        if JINJA.sub("", value).strip() and not ALLOWED.match(JINJA.sub("", value)):
            found.append(value)
    text = TAG.sub(" ", JINJA.sub(" ", source))
    for word in text.split():
        if not ALLOWED.match(word) and word not in ALLOWED_WORDS and not word.startswith("&"):
            found.append(word)
    return found


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_template_has_no_untranslated_visible_text(template):
    assert _unmarked_text(template.read_text(encoding="utf-8")) == []


def test_unmarked_text_detector_catches_literal_text():
    assert _unmarked_text('<p>{{ _("Fine") }} Oops</p>') == ["Oops"]
    assert _unmarked_text('<a aria-label="Menu">{% trans %}x{% endtrans %}</a>') == ["Menu"]
    assert _unmarked_text('<p>{{ n }} · {{ _("ok") }}</p>') == []


def test_code_is_ruff_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
