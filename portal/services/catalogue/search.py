"""Finding a service: ranked word-prefix search, filters, pages, and pointers elsewhere.

A query's words (folded: case and accents ignored, see portal.domain.search) must each start a
word of the service's names, code or keywords, of its published standard's texts, or of its
department's names or short name. Results are ranked by where the words were found (the
service's own names and keywords first, then its department's names, then the texts), then by
name. Matching runs on the stored, normalised search words (one indexed-free scan of the
service table, no request row), the same on SQLite and PostgreSQL.

Lists are paged: only the services of the page asked for are loaded, and their statuses read;
a status filter has the database judge the shown status of every service (one grouping
statement, :func:`~portal.services.catalogue.tallies.status_tallies`: no stored JSON is read)
before paging. The plain list (no words, no status filter) is ordered and paged by the
database, on the services' stored sort keys by name (Service.name_key_id / name_key_en,
indexed): a page reads its own rows, not the names of every service.

Pages come two ways: as catalogue objects with their departments (:func:`service_search_page`,
for the HTML list), or as the plain columns the JSON API writes (:func:`service_facts_page`):
no object is built for a row, and the plain list reads a page's facts, its count and the
services' last report times in one statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from math import ceil
from typing import Any

from sqlalchemy import Row, Select, bindparam, func, select
from sqlalchemy.orm import defer, joinedload

from portal.domain.calendar import utc_now
from portal.domain.search import keyword_list, matches, query_words, search_text
from portal.extensions import db
from portal.models.catalogue import STANDARD_FIELDS, WORK_MODES, Department, Service
from portal.models.catalogue import ServicePointer as Pointer
from portal.models.metrics import SERVICE_STATUSES, ServiceReport
from portal.services.catalogue.directory import (
    ServiceRow,
    department_ids_matching,
    service_search_filter,
)
from portal.services.catalogue.tallies import status_tallies
from portal.services.metrics.status import StatusView, status_for_services

# Where a word was found, best first: the service's names and keywords, its department's
# names, the texts of its standard.
_RANK_NAME, _RANK_DEPARTMENT, _RANK_TEXT = 3, 2, 1
MAX_PER_PAGE = 200
_STANDARD_TEXTS = tuple(
    getattr(Service, f"{name}_{lang}") for name in STANDARD_FIELDS for lang in ("id", "en")
)

__all__ = [
    "MAX_PER_PAGE",
    "Page",
    "ServiceFactsRow",
    "ServiceSearch",
    "pointers_matching",
    "service_facts",
    "service_facts_page",
    "service_search_page",
]


@dataclass(frozen=True)
class Page:
    """One page of a list, with what the pager needs (the attributes of Flask-SQLAlchemy's)."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """Return the number of pages (0 when the list is empty)."""
        return ceil(self.total / self.per_page) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


@dataclass(frozen=True)
class ServiceSearch:
    """A page of services found, the words searched, and pointers to services elsewhere."""

    page: Page
    words: list[str] = field(default_factory=list)
    pointers: list[Pointer] = field(default_factory=list)
    # Words of the query that no service has, left out so the others could find something
    # ("cara", "how"): shown as "not found: ...".
    ignored: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ServiceFactsRow:
    """A service as the API lists it: its facts as plain columns, and its shown status.

    ``facts`` has the service's columns by their names (``code``, ``name_id``, ``name_en``,
    ``work_mode``...), its department's as ``department_code``, ``department_name_id`` and
    ``department_name_en``, and ``last_reported_at`` (None: never reported).
    """

    facts: Row
    status: StatusView


def _rank(
    words: list[str], names: str, department_id: int, departments: dict[str, set[int]]
) -> int:
    """Score one service found: for each word, where it was found (names best)."""
    score = 0
    for word in words:
        if matches(names, word):
            score += _RANK_NAME
        elif department_id in departments[word]:
            score += _RANK_DEPARTMENT
        else:
            score += _RANK_TEXT
    return score


def _filtered(stmt: Select, department_code: str, work_mode: str) -> Select:
    """Keep the services of a department (its code) and of a work mode, when given."""
    if department_code:
        stmt = stmt.join(Service.department).where(Department.code == department_code)
    if work_mode in WORK_MODES:
        stmt = stmt.where(Service.work_mode == work_mode)
    return stmt


def _by_name(department_code: str, work_mode: str, lang: str) -> Select:
    """Select the ids of the services (of a department, a work mode) in name order.

    Ordered by the database on the stored sort key of the language, then id: code points on
    both databases (see Service.name_key_id), the order Python's sorted() gives the same keys.
    """
    key = Service.name_key_en if lang == "en" else Service.name_key_id
    return _filtered(select(Service.id), department_code, work_mode).order_by(key, Service.id)


def _candidate_ids(
    words: list[str], department_code: str, work_mode: str, lang: str
) -> list[int]:
    """Return the ids of the services matching, best first (then by name in the language)."""
    if not words:
        # Nothing to rank: by name alone (no search words read).
        return list(db.session.scalars(_by_name(department_code, work_mode, lang)))
    name = Service.name_en if lang == "en" else Service.name_id
    stmt = _filtered(select(Service.id, Service.department_id, Service.search_names,
                            Service.name_id, name), department_code, work_mode)
    departments = department_ids_matching(words)
    rows = list(db.session.execute(service_search_filter(stmt, words, departments)))

    def order(row) -> tuple:
        service_id, department_id, names, name_id, localized_name = row
        rank = _rank(words, names or "", department_id, departments)
        return (-rank, (localized_name or name_id).casefold(), service_id)

    return [row[0] for row in sorted(rows, key=order)]


def service_search_page(
    query: str = "",
    department_code: str = "",
    work_mode: str = "",
    status: str = "",
    page: int = 1,
    per_page: int = 25,
    lang: str = "id",
) -> ServiceSearch:
    """Find services (ranked), keep those of a shown status if asked, and return one page.

    ``per_page`` is capped at MAX_PER_PAGE; a page past the last gives the last page. The
    page's items are ServiceRow: each service loaded with its department, and its status.
    """
    return _search(query, department_code, work_mode, status, page, per_page, lang,
                   _listed_page, _loaded_page)


def service_facts_page(
    query: str = "",
    department_code: str = "",
    work_mode: str = "",
    status: str = "",
    page: int = 1,
    per_page: int = 25,
    lang: str = "id",
) -> ServiceSearch:
    """Find the same page as :func:`service_search_page`, its items ServiceFactsRow."""
    return _search(query, department_code, work_mode, status, page, per_page, lang,
                   _listed_facts_page, _facts_page)


# How a page is read: the plain list by name (department, work mode, language, page, per
# page), and the chosen services of a search (ids in order, statuses read, page, per page,
# total).
ListedPage = Callable[[str, str, str, int, int], Page]
LoadedPage = Callable[[list[int], dict[int, StatusView], int, int, int], Page]


def _search(
    query: str,
    department_code: str,
    work_mode: str,
    status: str,
    page: int,
    per_page: int,
    lang: str,
    listed_page: ListedPage,
    loaded_page: LoadedPage,
) -> ServiceSearch:
    """Find services (ranked), keep those of a shown status if asked, and read one page."""
    words = query_words(query)
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    if not words and status not in SERVICE_STATUSES:
        return ServiceSearch(page=listed_page(department_code, work_mode, lang, page, per_page))
    ids = _candidate_ids(words, department_code, work_mode, lang)
    ignored: list[str] = []
    if not ids and len(words) > 1:
        # Leave out the words no service has at all (with the same filters), if others do.
        useful = [w for w in words if _candidate_ids([w], department_code, work_mode, lang)]
        if useful and len(useful) < len(words):
            ignored = [w for w in words if w not in useful]
            ids = _candidate_ids(useful, department_code, work_mode, lang)
    views: dict[int, StatusView] = {}
    now = utc_now()
    if status in SERVICE_STATUSES:
        # Each service's shown status judged by the database (the rules of the status
        # reads); the views of the page's services are then read for that same time.
        shown = status_tallies("id", now=now)
        ids = [i for i in ids if shown.get(i, {}).get(status)]
    page = _page_within(page, len(ids), per_page)
    chosen = ids[(page - 1) * per_page: page * per_page]
    if status in SERVICE_STATUSES and chosen:
        views = status_for_services(chosen, now=now)
    return ServiceSearch(
        page=loaded_page(chosen, views, page, per_page, len(ids)),
        words=words,
        pointers=pointers_matching(words),
        ignored=ignored,
    )


def _listed_page(
    department_code: str, work_mode: str, lang: str, page: int, per_page: int
) -> Page:
    """Return one page of the plain list by name (no words, no status filter).

    Paged by the database: one statement reads the page's ids and, on each row, the number of
    services (a window count), not every service's name. A page past the last reads no row: the
    services are then counted apart and the last page read instead.
    """
    stmt = _by_name(department_code, work_mode, lang).add_columns(func.count().over())
    page, rows = _page_rows(
        lambda number: _rows_of_page(stmt, number, per_page),
        department_code, work_mode, page, per_page)
    total = rows[0][1] if rows else 0
    return _loaded_page([row[0] for row in rows], {}, page, per_page, total)


def _page_rows(
    read: Callable[[int], list], department_code: str, work_mode: str, page: int,
    per_page: int,
) -> tuple[int, list]:
    """Read a page of the plain list with read(page), the last page when it is past the last.

    Return the page read and its rows.
    """
    page = max(1, int(page))
    rows = read(page)
    if not rows and page > 1:
        total = db.session.scalar(
            _filtered(select(func.count(Service.id)), department_code, work_mode))
        page = _page_within(page, total, per_page)
        rows = read(page)
    return page, rows


def _rows_of_page(stmt: Select, page: int, per_page: int) -> list:
    """Return the rows of one page of an ordered statement."""
    return list(db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)))


def _page_within(page: int, total: int, per_page: int) -> int:
    """Return the page asked for, kept between the first and the last (1 when empty)."""
    return min(max(1, int(page)), max(1, ceil(total / per_page)))


def _chosen_page(
    read: Callable[[list[int]], Iterable[Any]], wrap: Callable[[Any, StatusView], Any],
    chosen: list[int], views: dict[int, StatusView], page: int, per_page: int, total: int,
) -> Page:
    """Read a page's services (chosen ids, in order; ``read`` gives objects or rows with an
    ``id``) and the statuses not read yet; ``wrap`` makes each page item."""
    found = {item.id: item for item in read(chosen)} if chosen else {}
    missing = [i for i in chosen if i not in views]
    if missing:
        views.update(status_for_services(missing))
    return Page([wrap(found[i], views[i]) for i in chosen], page, per_page, total)


def _loaded_page(
    chosen: list[int], views: dict[int, StatusView], page: int, per_page: int, total: int
) -> Page:
    """Load a page's services (chosen ids, in order) as ORM objects."""
    return _chosen_page(lambda ids: db.session.scalars(_page_statement(), {"ids": ids}),
                        ServiceRow, chosen, views, page, per_page, total)


@lru_cache(maxsize=1)
def _page_statement() -> Select:
    """Build the statement loading a page's services once (the ids bound when it runs).

    Its options cost more to prepare at every call than the rows do to read.
    """
    return select(Service).where(Service.id.in_(bindparam("ids", expanding=True))).options(
        # Joined, not read apart: one statement, and cheaper to load.
        joinedload(Service.department),
        # Lists never show the published standard: do not load its ten texts.
        *(defer(c) for c in _STANDARD_TEXTS),
        defer(Service.search_names), defer(Service.search_texts),
    )


def _facts_select() -> Select:
    """Select the facts of services (see ServiceFactsRow), a row per service."""
    return (
        select(
            Service.id, Service.code, Service.name_id, Service.name_en, Service.work_mode,
            Service.work_mode_since, Service.commitment_value, Service.commitment_unit,
            Service.on_time_target, Service.first_response_value, Service.first_response_unit,
            Service.online_url, Department.code.label("department_code"),
            Department.name_id.label("department_name_id"),
            Department.name_en.label("department_name_en"), ServiceReport.last_reported_at,
        )
        .join(Service.department)
        .outerjoin(ServiceReport, ServiceReport.service_id == Service.id)
    )


@lru_cache(maxsize=8)
def _listed_facts_statement(by_department: bool, by_mode: bool, lang: str) -> Select:
    """Build the plain list's statement once per filter set and language (the department,
    work mode, limit and offset bound when it runs): a page's facts by name, each row with
    the number of services (a window count)."""
    key = Service.name_key_en if lang == "en" else Service.name_key_id
    # The page's ids and the count first, from the service table alone: a window count over
    # the joined facts made the database join all 1,000 services before the limit (4 ms).
    page = select(Service.id, func.count().over().label("total"))
    if by_department:
        page = page.join(Service.department).where(Department.code == bindparam("department"))
    if by_mode:
        page = page.where(Service.work_mode == bindparam("mode"))
    page = (page.order_by(key, Service.id).limit(bindparam("limit"))
            .offset(bindparam("offset")).cte("listed_page"))
    return (_facts_select().add_columns(page.c.total).join(page, page.c.id == Service.id)
            .order_by(key, Service.id))


def _listed_facts_page(
    department_code: str, work_mode: str, lang: str, page: int, per_page: int
) -> Page:
    """Return one page of the plain list by name as facts, read by one statement."""
    by_mode = work_mode in WORK_MODES
    stmt = _listed_facts_statement(bool(department_code), by_mode, lang)

    def read(number: int) -> list:
        return list(db.session.execute(stmt, {
            "department": department_code, "mode": work_mode, "limit": per_page,
            "offset": (number - 1) * per_page}))

    page, rows = _page_rows(read, department_code, work_mode, page, per_page)
    views = status_for_services([row.id for row in rows]) if rows else {}
    return Page([ServiceFactsRow(row, views[row.id]) for row in rows], page, per_page,
                rows[0].total if rows else 0)


@lru_cache(maxsize=1)
def _facts_statement() -> Select:
    """Build the statement reading chosen services' facts once (the ids bound when it runs)."""
    return _facts_select().where(Service.id.in_(bindparam("ids", expanding=True)))


def _facts_page(
    chosen: list[int], views: dict[int, StatusView], page: int, per_page: int, total: int
) -> Page:
    """Read a page's facts (chosen ids, in order) as plain rows."""
    return _chosen_page(lambda ids: db.session.execute(_facts_statement(), {"ids": ids}),
                        ServiceFactsRow, chosen, views, page, per_page, total)


@lru_cache(maxsize=1)
def _facts_by_code_statement() -> Select:
    """Build service_facts' statement once (the code bound when it runs)."""
    return _facts_select().where(Service.code == bindparam("code"))


def service_facts(code: str) -> Row | None:
    """Return one service's facts as ServiceFactsRow has them (None: no such service)."""
    return db.session.execute(_facts_by_code_statement(), {"code": code}).one_or_none()


def _names_keyword(pointer: Pointer, words: list[str]) -> bool:
    """Tell whether the query names one of the pointer's keywords whole ("bikin ktp" → ktp)."""
    for keyword in keyword_list(pointer.keywords_id) + keyword_list(pointer.keywords_en):
        needed = query_words(keyword)
        if needed and all(any(k.startswith(w) and len(w) >= min(3, len(k)) for w in words)
                          for k in needed):
            return True
    return False


def pointers_matching(words: list[str]) -> list[Pointer]:
    """Return the pointers to services elsewhere that the query asks for.

    A pointer matches when its topic or keywords have every word of the query, or when the
    query holds one of its keywords whole ("bikin ktp di palangka raya" names "ktp").
    """
    if not words:
        return []
    found = []
    for pointer in db.session.scalars(select(Pointer).order_by(Pointer.topic_id)):
        stored = pointer.search_names or search_text([pointer.topic_id, pointer.topic_en])
        if all(matches(stored, word) for word in words) or _names_keyword(pointer, words):
            found.append(pointer)
    return found
