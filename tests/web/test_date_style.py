"""English pages use one date style, "1 December 2026" (Indonesian: "1 Desember 2026")."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from flask_babel import force_locale

from portal.i18n import date_long
from portal.services.metrics.figures import DayPoint
from portal.web.charts import day_sentence

ROOT = Path(__file__).resolve().parents[2]
# A call of Babel's date formatting and its pattern (the second argument).
CALL = re.compile(r"format_date(?:time)?\(\s*[^,()]+(?:\([^()]*\))?[^,()]*,\s*([^,)]+)")


def test_every_date_in_the_code_is_formatted_day_month_year_in_full():
    patterns = {}
    for path in (ROOT / "portal").rglob("*.py"):
        for pattern in CALL.findall(path.read_text(encoding="utf-8")):
            patterns.setdefault(pattern.strip(), []).append(path.name)
    # "long" and "medium" say "December 1, 2026" and "Dec 1, 2026" in English.
    odd = {p: files for p, files in patterns.items()
           if not p.strip("\"'").startswith("d MMMM y")}
    assert odd == {}


def test_dates_read_the_same_in_sentences_and_charts(app):
    with app.test_request_context("/en/"), force_locale("en"):
        assert date_long(date(2026, 12, 1)) == "1 December 2026"
        point = DayPoint(day=date(2026, 12, 1), received=0, completed=0, due=0, on_time=0,
                         on_time_rate=None)
        assert day_sentence(point).startswith("1 December 2026:")
    with app.test_request_context("/id/"), force_locale("id"):
        assert date_long(date(2026, 12, 1)) == "1 Desember 2026"
