"""Demo data: the sample catalogue, loaded through the real importer."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import Select, select

from portal.extensions import db
from portal.models.catalogue import SiteSetting
from portal.services.catalogue.directory import (
    DEMO_DATA_KEY,
    ImportSummary,
    catalogue_import_file,
)
from portal.services.catalogue.pointers import pointer_import_file
from portal.services.demo.arrangements import demo_arrangements_load
from portal.services.demo.history import demo_history_generate
from portal.services.demo.survey import demo_survey_generate
from portal.services.feedback.routing import routing_demo_load

DEMO_CATALOGUE = Path(__file__).resolve().parent / "catalogue.csv"
# Where to go for what the province does not provide (KTP, SIM, ...): catalogue data too.
DEMO_POINTERS = Path(__file__).resolve().parent / "pointers.csv"


def demo_load() -> ImportSummary:
    """Import the demo catalogue and mark the installation as holding demo data."""
    with DEMO_CATALOGUE.open(encoding="utf-8", newline="") as stream:
        summary = catalogue_import_file(stream, recorded_by="demo")
    with DEMO_POINTERS.open(encoding="utf-8", newline="") as stream:
        pointer_import_file(stream)
    if db.session.get(SiteSetting, DEMO_DATA_KEY) is None:
        db.session.add(SiteSetting(key=DEMO_DATA_KEY, value="1"))
    db.session.commit()
    routing_demo_load()  # the triage unit and sample routing rules, once
    demo_history_generate()  # a year of requests per service, idempotent
    demo_survey_generate()  # satisfaction-survey answers, idempotent
    demo_arrangements_load()  # departments' WFA arrangements, once
    return summary


def demo_data_loaded() -> bool:
    """Tell whether demo data is loaded (every page then says so).

    A plain one-row read, not an ORM load: every page header asks it.
    """
    return db.session.scalar(_demo_flag_statement()) is not None


@lru_cache(maxsize=1)
def _demo_flag_statement() -> Select:
    """Build demo_data_loaded's statement once (it has no values)."""
    return select(SiteSetting.key).where(SiteSetting.key == DEMO_DATA_KEY)
