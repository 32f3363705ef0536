"""Finding a service: ranked word-prefix search, filters, pages, and pointers elsewhere.

A query's words (folded: case and accents ignored, see portal.domain.search) must each start a
word of the service's names, code or keywords, of its published standard's texts, or of its
department's names or short name. Results are ranked by where the words were found (the
service's own names and keywords first, then its department's names, then the texts), then by
name. Matching runs on the stored, normalised search words (one indexed-free scan of the
service table, no request row), the same on SQLite and PostgreSQL.

Lists are paged: only the services of the page asked for are loaded, and their statuses read;
a status filter has the database judge the shown status of every service (one statement,
:func:`~portal.services.catalogue.tallies.shown_status_kept`: no stored JSON is read, and
without words the same statement orders them by name) before paging. The plain list (no
words, no status filter) is ordered and paged by the database, on the services' stored sort
keys by name (Service.name_key_id / name_key_en, indexed): a page reads its own rows, not the
names of every service.

Pages come two ways, both as plain columns in named tuples (no entity is loaded for a
row): the columns of the HTML list's cards with what each service's shown status is built
from (:func:`service_search_page`: a page's services and their statuses in one statement,
the plain list's count too), or the facts the JSON API writes (ServiceFacts) with what each
shown status is built from (:func:`service_facts_page`: the plain list reads a page's facts,
statuses and count in one statement; :func:`facts_status` builds the statuses from those
rows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from math import ceil
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, func, select

from portal.domain.calendar import utc_now
from portal.domain.search import keyword_list, matches, query_words, search_text
from portal.extensions import db
from portal.models.catalogue import WORK_MODES, Department, Service
from portal.models.catalogue import ServicePointer as Pointer
from portal.models.metrics import SERVICE_STATUSES
from portal.services.catalogue.directory import (
    DepartmentNames,
    ServiceRow,
    department_ids_matching,
    service_search_filter,
)
from portal.services.catalogue.tallies import ids_shown_as, shown_status_kept, silent_before
from portal.services.metrics.status import (
    StatusView,
    build_shown_statuses,
    shown_status_query,
)

# Where a word was found, best first: the service's names and keywords, its department's
# names, the texts of its standard.
_RANK_NAME, _RANK_DEPARTMENT, _RANK_TEXT = 3, 2, 1
MAX_PER_PAGE = 200

__all__ = [
    "MAX_PER_PAGE",
    "ListedService",
    "Page",
    "ServiceFacts",
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


class ServiceFacts(NamedTuple):
    """A service's facts as the API writes them, read as plain columns: first what its shown
    status is built from (the columns of
    :func:`~portal.services.metrics.status.shown_status_query`, under their names), then the
    service's columns by their names and its department's as ``department_code``,
    ``department_name_id`` and ``department_name_en``.

    A named tuple, not the statement's row: the API writes fifteen of them a service, dozens
    of services a page, and a row reads each by name far slower than a tuple does.
    """

    id: int
    stored: int | None
    reason_params: str | None
    metrics: str | None
    computed_at: datetime | None
    last_reported_at: datetime | None  # None: never reported
    disrupted: bool
    code: str
    name_id: str
    name_en: str
    work_mode: str
    work_mode_since: date | None
    commitment_value: int
    commitment_unit: str
    on_time_target: float
    first_response_value: int | None
    first_response_unit: str | None
    online_url: str | None
    department_code: str
    department_name_id: str
    department_name_en: str


@dataclass(frozen=True)
class ServiceFactsRow:
    """A service as the API lists it: its facts (:class:`ServiceFacts`) and its shown
    status."""

    facts: ServiceFacts
    status: StatusView


class ListedService(NamedTuple):
    """A service as the HTML list reads it (:attr:`ServiceRow.service`): what its card shows
    and, first, what its shown status is built from (the columns of
    :func:`~portal.services.metrics.status.shown_status_query`, under their names).

    A named tuple, not the entity: a page is read in one statement with its statuses, and
    loading dozens of entities with their departments cost more than their cards.
    """

    id: int
    stored: int | None
    reason_params: str | None
    metrics: str | None
    computed_at: datetime | None
    last_reported_at: datetime | None
    disrupted: bool
    code: str
    name_id: str
    name_en: str
    work_mode: str
    work_mode_since: date | None
    commitment_value: int
    commitment_unit: str
    on_time_target: float
    department_id: int
    department_code: str
    department_name_id: str
    department_name_en: str

    @property
    def department(self) -> DepartmentNames:
        """The service's department's id, code and names, as its entity's department has
        them."""
        return DepartmentNames(self.department_id, self.department_code,
                               self.department_name_id, self.department_name_en)


# The service columns a card shows, read beside the shown status's (ListedService).
_CARD_COLUMNS = ("code", "name_id", "name_en", "work_mode", "work_mode_since",
                 "commitment_value", "commitment_unit", "on_time_target", "department_id")


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


def _filtered_as_bound(stmt: Select, by_department: bool, by_mode: bool) -> Select:
    """Keep the services of a department and of a work mode, their values bound when the
    statement runs (``department``, its code, and ``mode``): for statements built once."""
    if by_department:
        stmt = stmt.join(Service.department).where(Department.code == bindparam("department"))
    if by_mode:
        stmt = stmt.where(Service.work_mode == bindparam("mode"))
    return stmt


def _name_order(lang: str) -> tuple:
    """Return the list's order by name: the stored sort key of the language, then id.

    Code points on both databases (see Service.name_key_id): the order Python's sorted()
    gives the same keys.
    """
    return (Service.name_key_en if lang == "en" else Service.name_key_id), Service.id


def _candidate_ids(
    words: list[str], department_code: str, work_mode: str, lang: str
) -> list[int]:
    """Return the ids of the services matching, best first (then by name in the language)."""
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
    page's items are ServiceRow: each service as a ListedService (its card's columns and its
    department's names), and its status, read in the same statement.
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
# page), and the chosen services of a search (ids in order, the time their statuses are
# shown for, page, per page, total).
ListedPage = Callable[[str, str, str, int, int], Page]
LoadedPage = Callable[[list[int], datetime, int, int, int], Page]


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
    """Find services (ranked), keep those of a shown status if asked, and read one page.

    A service's shown status is judged by the database (the rules of the status reads,
    :func:`~portal.services.catalogue.tallies.shown_status_kept`); the page's services'
    statuses are then read for that same time.
    """
    words = query_words(query)
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    by_status = status in SERVICE_STATUSES
    if not words and not by_status:
        return ServiceSearch(page=listed_page(department_code, work_mode, lang, page, per_page))
    now = utc_now()
    ignored: list[str] = []
    if not words:
        # By name, those of the status only: one statement.
        ids = _shown_by_name(status, department_code, work_mode, lang, now)
    else:
        ids = _candidate_ids(words, department_code, work_mode, lang)
        if not ids and len(words) > 1:
            # Leave out the words no service has at all (with the same filters), if others do.
            useful = [w for w in words if _candidate_ids([w], department_code, work_mode, lang)]
            if useful and len(useful) < len(words):
                ignored = [w for w in words if w not in useful]
                ids = _candidate_ids(useful, department_code, work_mode, lang)
        if by_status and ids:
            rows = db.session.connection().execute(_shown_statement(False, False, None), {
                "status": status, "silent_before": silent_before(now)}).all()
            kept = set(ids_shown_as(rows, status, now))
            ids = [i for i in ids if i in kept]
    page = _page_within(page, len(ids), per_page)
    chosen = ids[(page - 1) * per_page: page * per_page]
    return ServiceSearch(
        page=loaded_page(chosen, now, page, per_page, len(ids)),
        words=words,
        pointers=pointers_matching(words),
        ignored=ignored,
    )


def _shown_by_name(
    status: str, department_code: str, work_mode: str, lang: str, now: datetime
) -> list[int]:
    """Return the ids of the services (of a department, a work mode) shown with ``status``
    at ``now``, in name order."""
    by_department, by_mode = bool(department_code), work_mode in WORK_MODES
    rows = db.session.connection().execute(_shown_statement(by_department, by_mode, lang), {
        "status": status, "silent_before": silent_before(now), "department": department_code,
        "mode": work_mode}).all()
    return ids_shown_as(rows, status, now)


@lru_cache(maxsize=16)
def _shown_statement(by_department: bool, by_mode: bool, lang: str | None) -> Select:
    """Build once per filter set and order (by name in ``lang``; None: unordered) the
    statement selecting the services of the status bound when it runs, and those left to
    Python (see shown_status_kept); the department and the work mode bound too."""
    stmt = _filtered_as_bound(select(Service.id), by_department, by_mode)
    if lang is not None:
        stmt = stmt.order_by(*_name_order(lang))
    return shown_status_kept(stmt)


def _listed_page(
    department_code: str, work_mode: str, lang: str, page: int, per_page: int
) -> Page:
    """Return one page of the plain list by name (no words, no status filter).

    Paged by the database, and read in one statement: the page's services with what their
    cards show and their shown statuses are built from, each row with the number of services
    (a window count), not every service's name. A page past the last reads no row: the
    services are then counted apart and the last page read instead.
    """
    stmt = _listed_statement(bool(department_code), work_mode in WORK_MODES, lang)

    def read(number: int) -> list:
        # Through the session's connection: plain rows need none of the ORM's execution;
        # all at once (one fetch, not one a row).
        return db.session.connection().execute(stmt, {
            "department": department_code, "mode": work_mode, "limit": per_page,
            "offset": (number - 1) * per_page}).all()

    now = utc_now()
    page, rows = _page_rows(read, department_code, work_mode, page, per_page)
    # The count is the row's last column, after ListedService's.
    services = [ListedService._make(row[:-1]) for row in rows]
    return _service_rows(services, now, page, per_page, rows[0][-1] if rows else 0)


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


def _page_within(page: int, total: int, per_page: int) -> int:
    """Return the page asked for, kept between the first and the last (1 when empty)."""
    return min(max(1, int(page)), max(1, ceil(total / per_page)))


def _service_rows(
    services: list[ListedService], now: datetime, page: int, per_page: int, total: int
) -> Page:
    """Make a page of ServiceRow from its services read, their statuses shown for ``now``
    built as :func:`~portal.services.metrics.status.status_for_services` builds them."""
    shown = build_shown_statuses([s.id for s in services], {s.id: s for s in services}, now)
    return Page([ServiceRow(s, shown[s.id][0]) for s in services], page, per_page, total)


def _loaded_page(
    chosen: list[int], now: datetime, page: int, per_page: int, total: int
) -> Page:
    """Read a page's services (chosen ids, in order) with their statuses, in one statement."""
    found = {}
    if chosen:
        result = db.session.connection().execute(_chosen_statement(), {"ids": chosen})
        found = {row.id: ListedService._make(row) for row in result.all()}
    return _service_rows([found[i] for i in chosen], now, page, per_page, total)


def _listed_select() -> Select:
    """Select the columns of ListedService, a row per service (of a department, by name)."""
    stmt = shown_status_query().add_columns(
        *(getattr(Service, name) for name in _CARD_COLUMNS),
        Department.code.label("department_code"),
        Department.name_id.label("department_name_id"),
        Department.name_en.label("department_name_en"),
    ).join(Department, Department.id == Service.department_id)
    assert tuple(stmt.selected_columns.keys()) == ListedService._fields
    return stmt


@lru_cache(maxsize=1)
def _chosen_statement() -> Select:
    """Build the statement reading chosen services as ListedService once (the ids bound
    when it runs)."""
    return _listed_select().where(Service.id.in_(bindparam("ids", expanding=True)))


@lru_cache(maxsize=8)
def _listed_statement(by_department: bool, by_mode: bool, lang: str) -> Select:
    """Build the plain list's statement once per filter set and language (the department,
    work mode, limit and offset bound when it runs): a page's services as ListedService by
    name, each row with the number of services (a window count) last."""
    page = _page_of_names(by_department, by_mode, lang)
    return (_listed_select().add_columns(page.c.total).join(page, page.c.id == Service.id)
            .order_by(*_name_order(lang)))


def _page_of_names(by_department: bool, by_mode: bool, lang: str) -> Any:
    """Select a page of the plain list as a CTE: its services' ids, each with the number of
    services (``total``); the department's code, the work mode, the limit and the offset
    bound when it runs.

    The page's ids and the count from the service table alone: a window count over the
    joined columns made the database join all 1,000 services before the limit (4 ms).
    """
    page = _filtered_as_bound(select(Service.id, func.count().over().label("total")),
                              by_department, by_mode)
    return (page.order_by(*_name_order(lang)).limit(bindparam("limit"))
            .offset(bindparam("offset")).cte("listed_page"))


def _facts_select() -> Select:
    """Select the columns of ServiceFacts, a row per service: a page of the API's list, or
    one service, and what their statuses are built from in one statement."""
    stmt = (
        shown_status_query().add_columns(
            Service.code, Service.name_id, Service.name_en, Service.work_mode,
            Service.work_mode_since, Service.commitment_value, Service.commitment_unit,
            Service.on_time_target, Service.first_response_value, Service.first_response_unit,
            Service.online_url, Department.code.label("department_code"),
            Department.name_id.label("department_name_id"),
            Department.name_en.label("department_name_en"),
        )
        .join(Department, Department.id == Service.department_id)
    )
    assert tuple(stmt.selected_columns.keys()) == ServiceFacts._fields
    return stmt


def facts_status(rows: list[ServiceFacts], now: datetime | None = None) -> dict[int, StatusView]:
    """Return the shown status of each service of its facts (or rows with their columns), as
    :func:`~portal.services.metrics.status.status_for_services` builds them (no statement
    unless a stored row needs evaluating afresh)."""
    shown = build_shown_statuses([row.id for row in rows], {row.id: row for row in rows}, now)
    return {service_id: view for service_id, (view, _at) in shown.items()}


@lru_cache(maxsize=8)
def _listed_facts_statement(by_department: bool, by_mode: bool, lang: str) -> Select:
    """Build the plain list's statement once per filter set and language (the department,
    work mode, limit and offset bound when it runs): a page's facts by name, each row with
    the number of services (a window count)."""
    page = _page_of_names(by_department, by_mode, lang)
    return (_facts_select().add_columns(page.c.total).join(page, page.c.id == Service.id)
            .order_by(*_name_order(lang)))


def _listed_facts_page(
    department_code: str, work_mode: str, lang: str, page: int, per_page: int
) -> Page:
    """Return one page of the plain list by name as facts, read by one statement."""
    by_mode = work_mode in WORK_MODES
    stmt = _listed_facts_statement(bool(department_code), by_mode, lang)

    def read(number: int) -> list:
        return db.session.connection().execute(stmt, {
            "department": department_code, "mode": work_mode, "limit": per_page,
            "offset": (number - 1) * per_page}).all()

    page, rows = _page_rows(read, department_code, work_mode, page, per_page)
    # The count is the row's last column, after ServiceFacts'.
    facts = [ServiceFacts._make(row[:-1]) for row in rows]
    views = facts_status(facts)
    return Page([ServiceFactsRow(f, views[f.id]) for f in facts], page, per_page,
                rows[0][-1] if rows else 0)


@lru_cache(maxsize=1)
def _facts_statement() -> Select:
    """Build the statement reading chosen services' facts once (the ids bound when it runs)."""
    return _facts_select().where(Service.id.in_(bindparam("ids", expanding=True)))


def _facts_page(
    chosen: list[int], now: datetime, page: int, per_page: int, total: int
) -> Page:
    """Read a page's facts (chosen ids, in order) as plain rows with their statuses."""
    if not chosen:
        return Page([], page, per_page, total)
    result = db.session.connection().execute(_facts_statement(), {"ids": chosen})
    found = {row.id: ServiceFacts._make(row) for row in result.all()}
    views = facts_status([found[i] for i in chosen], now)
    return Page([ServiceFactsRow(found[i], views[i]) for i in chosen], page, per_page, total)


@lru_cache(maxsize=1)
def _facts_by_code_statement() -> Select:
    """Build service_facts' statement once (the code bound when it runs)."""
    return _facts_select().where(Service.code == bindparam("code"))


def service_facts(code: str) -> ServiceFacts | None:
    """Return one service's facts, with what its shown status is built from
    (:func:`facts_status`; None: no such service)."""
    row = db.session.connection().execute(_facts_by_code_statement(),
                                          {"code": code}).one_or_none()
    return None if row is None else ServiceFacts._make(row)


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
