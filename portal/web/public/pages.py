"""Public pages: home, services, departments (every URL starts with the language).

Pages are served through ``public_page`` (portal/views/live.py): conditional answers, a short
public cache lifetime and an in-process page cache keyed on the public data version. The
refresh script (static/js/refresh.js) polls ``live`` and swaps the ``[data-live]`` regions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from flask import Blueprint, render_template, request, url_for
from markupsafe import Markup, escape

from portal.i18n import LocalText, current_lang, localized, page_gettext
from portal.models.catalogue import WORK_MODES, Service
from portal.models.metrics import SERVICE_STATUSES
from portal.services.catalogue import arrangements, search
from portal.services.catalogue import directory as catalogue
from portal.services.catalogue.directory import DepartmentRow, ServiceRow
from portal.services.catalogue.places import department_place
from portal.services.catalogue.public_figures import (
    DAILY_BAR_DAYS,
    province_overview,
)
from portal.services.metrics.status import (
    STATUS_WINDOW_DAYS,
    StatusView,
    status_reason_in,
    status_reason_text,
)
from portal.web import charts
from portal.web.formatting import (
    Formats,
    by_lang,
    date_long,
    updated_ago_forms,
    work_mode_label,
)
from portal.web.paging import page_number
from portal.web.public.live import live_version_response, public_page, updated_ago, version_etag
from portal.web.urls import address_maker

bp = Blueprint("public", __name__, url_prefix="/<lang>")
# The order in which pages list statuses: the judged ones first, then the exceptions.
STATUS_ORDER = ("meeting", "at_risk", "breaching", "disrupted", "insufficient_data", "no_data")
assert sorted(STATUS_ORDER) == sorted(SERVICE_STATUSES)


# Template globals (not a context processor: the macros of macros/metrics.html need them).
# Rates, durations and status names come from portal.web.formatting, which registers them.
for _name, _helper in {
    "updated_ago": updated_ago,
    "mode_label": by_lang(work_mode_label),
    "day_text": by_lang(date_long),
    "status_reason": status_reason_text,
    "live_version": version_etag,
    "ago_forms": updated_ago_forms,
    "service_statuses": STATUS_ORDER,
    # The windows the pages name ("over the last 30 days"), from the rules that set them.
    "status_window_days": STATUS_WINDOW_DAYS,
    "daily_bar_days": DAILY_BAR_DAYS,
    "chart_plot": charts.plot_svg,
}.items():
    bp.add_app_template_global(_helper, _name)
def _render(template: str, **context: object) -> str:
    """Render a page with its ``_``, ``gettext`` and ``ngettext`` bound to the reader's
    translations, looked up once (portal.i18n.page_gettext)."""
    return render_template(template, **page_gettext(), **context)


class ServiceCard(NamedTuple):
    """A service as a list's card shows it, its texts formatted once a page.

    ``service`` is what the list read (ServiceRow.service): the entity, or a department's
    page's named tuple of the columns a card shows, under the same names. A named tuple, not a
    dataclass: a list builds dozens a page, and a frozen dataclass sets each field by a call.
    """

    service: Service | tuple
    status: StatusView
    url: str
    name: LocalText
    # The department's name (None where the list is a department's own).
    department_name: LocalText | None
    status_label: str
    reason: str
    mode_label: str
    # "since <date>" beside a work mode other than on-site ("" when not shown).
    since: str
    commitment: str


def _cards(rows: Iterable[ServiceRow], fmt: Formats,
           show_department: bool = True) -> list[ServiceCard]:
    """Format the cards of a list with the reader's language looked up once.

    A list of dozens of services made each card's eight labels and sentences look the
    language up again (most of the page's time); the texts are those of the same formatters,
    each formatted once a page (a list repeats a few statuses, work modes and commitments).
    The link and names too: the template only places them, the links built from one
    (portal.web.urls.address_maker). A department's own page shows no department's name.
    """
    cards, lang = [], current_lang()
    link = address_maker("public.service", "code", lang=lang)
    status_labels: dict[str, str] = {}
    mode_labels: dict[str, str] = {}
    commitments: dict[tuple, str] = {}
    for row in rows:
        service, view = row.service, row.status
        mode, status = service.work_mode, view.status
        since = ""
        if mode != "onsite" and service.work_mode_since:
            since = fmt.gettext("since %(date)s", date=fmt.date_long(service.work_mode_since))
        label = status_labels.get(status)
        if label is None:
            label = status_labels[status] = fmt.status_label(status)
        mode_label = mode_labels.get(mode)
        if mode_label is None:
            mode_label = mode_labels[mode] = fmt.work_mode_label(mode, True)
        promise = (service.commitment_value, service.commitment_unit, service.on_time_target)
        commitment = commitments.get(promise)
        if commitment is None:
            commitment = commitments[promise] = fmt.commitment_text(*promise)
        cards.append(ServiceCard(
            service, view, link(service.code), localized(service, "name", lang),
            localized(service.department, "name", lang) if show_department else None,
            label, status_reason_in(view, fmt.lang), mode_label, since, commitment,
        ))
    return cards


def service_card_list(cards: Iterable[ServiceCard], show_department: bool = True,
                      level: int = 2) -> Markup:
    """Render a list's cards in one string (macros/catalogue.html, ``service_cards``).

    Built here, not by the macro's loop: a list renders dozens of cards, and the template
    spent more on each card's dozen placements than on its markup. The markup is the loop's,
    byte for byte, every text escaped as the template escaped it. The parts a list repeats
    (a status and its label, a work mode and since when, a commitment) are built once.
    """
    statuses: dict[tuple[str, str], str] = {}
    modes: dict[tuple[str, str, str], str] = {}
    commitments: dict[str, str] = {}
    heading = escape(level)
    parts = []
    for card in cards:
        status_key = (card.status.status, card.status_label)
        status = statuses.get(status_key)
        if status is None:
            status = statuses[status_key] = (
                f'<p class="status-line"><span class="badge status-{escape(status_key[0])}">'
                f'{escape(status_key[1])}</span> <span class="status-reason">')
        mode_key = (card.service.work_mode, card.mode_label, card.since)
        mode = modes.get(mode_key)
        if mode is None:
            since = f'<span class="muted">{escape(card.since)}</span>' if card.since else ""
            mode = modes[mode_key] = (
                f'</span></p>\n  <p><span class="badge mode-{escape(mode_key[0])}">'
                f'{escape(mode_key[1])}</span>\n  {since}</p>\n')
        commitment = commitments.get(card.commitment)
        if commitment is None:
            commitment = commitments[card.commitment] = (
                f'  <p class="commitment">{escape(card.commitment)}</p>\n</li>')
        department = (f'<p class="muted">{escape(card.department_name)}</p>'
                      if show_department else "")
        parts.append(
            f'<li class="card">\n  <h{heading} class="card-title"><a href="{escape(card.url)}">'
            f'{escape(card.name)}</a></h{heading}>\n  {department}'
            f'{status}{escape(card.reason)}{mode}{commitment}')
    return Markup("".join(parts))


bp.add_app_template_global(service_card_list)


def _status_counter(fmt: Formats) -> Callable[[dict[str, int]], Markup]:
    """Return a function rendering the list of statuses counted, in page order: each
    status's badge and count.

    Built here, not by a macro: the department list shows one per department, and a macro
    call cost more than its markup. Each status's badge and each number are formatted once a
    page (the department list repeats them).
    """
    badges: dict[str, str] = {}
    numbers: dict[int, str] = {}

    def status_counts(counts: dict[str, int]) -> Markup:
        items = []
        for status in STATUS_ORDER:
            count = counts[status]
            if not count:
                continue
            badge = badges.get(status)
            if badge is None:
                badge = badges[status] = (
                    f'\n  <li><span class="badge status-{status}">'
                    f'{escape(fmt.status_label(status))}</span> <span class="status-count">')
            number = numbers.get(count)
            if number is None:
                number = numbers[count] = f'{escape(fmt.number(count))}</span></li>\n  '
            items.append(badge + number)
        return Markup(f'<ul class="status-counts">\n  {"".join(items)}\n</ul>')

    return status_counts


def _department_cards(rows: Iterable[DepartmentRow], fmt: Formats) -> Markup:
    """Render the department list's cards in one string, their texts formatted once a page.

    Built here, not by the template's loop (as service_card_list): the list shows every
    department, and the loop's placements, each card's link (url_for) and its sentence
    cost more than the cards' markup. The markup is the loop's, byte for byte, every text
    escaped as the template escaped it; the links are built from one
    (portal.web.urls.address_maker), the "N services" sentences once a number.
    """
    lang = current_lang()
    link = address_maker("public.department", "code", lang=lang)
    status_counts = _status_counter(fmt)
    sentences: dict[int, str] = {}
    parts = []
    for row in rows:
        department = row.department
        sentence = sentences.get(row.services)
        if sentence is None:
            sentence = sentences[row.services] = escape(fmt.ngettext(
                "%(count)s service", "%(count)s services", row.services, count=row.services))
        parts.append(
            f'\n  <li class="card">\n    <h2 class="card-title">'
            f'<a href="{escape(link(department.code))}">'
            f'{escape(localized(department, "name", lang))}</a></h2>\n'
            f'    <p class="muted">{sentence}</p>\n    {status_counts(row.counts)}\n  </li>\n  ')
    return Markup("".join(parts))


def _oldest(views) -> object:
    """Return the oldest computation time of some statuses (None when none was computed)."""
    times = [v.computed_at for v in views if v.computed_at is not None]
    return min(times) if times else None


@bp.get("/")
@public_page
def home() -> str:
    """Show the province at a glance: statuses by work mode, disruptions, and search."""
    overview = province_overview()
    fmt, lang = Formats(), current_lang()
    return _render(
        "public/home.html",
        overview=overview,
        **_home_figures(overview.by_mode, overview.totals, overview.services_by_mode, fmt, lang),
    )


def _home_figures(by_mode: dict[str, dict[str, int]], totals: dict[str, int],
                  staffed: dict[str, int], fmt: Formats, lang: str) -> dict[str, list]:
    """Format the home page's figures, links and labels, the language looked up once.

    ``status_rows``: status, its list's link, its name, its total, its count per work mode;
    ``mode_columns``: work mode, its list's link, its short name; ``mode_counts``: work mode,
    link, services staffed so, its name. The template only places them.
    """
    def link(**args: str) -> str:
        return url_for("public.services", lang=lang, **args)

    return {
        "status_rows": [(status, link(status=status), fmt.status_label(status),
                         fmt.number(totals[status]),
                         [fmt.number(counts[status]) for counts in by_mode.values()])
                        for status in STATUS_ORDER],
        "mode_columns": [(mode, link(mode=mode), fmt.work_mode_label(mode, True))
                         for mode in by_mode],
        "mode_counts": [(mode, link(mode=mode), fmt.number(n), fmt.work_mode_label(mode))
                        for mode, n in staffed.items()],
    }


# Services per page of the list unless ?per_page says otherwise (at most MAX_PER_PAGE).
SERVICES_PER_PAGE = 25


def _per_page(args) -> int:
    """Return ?per_page as a number from 1 to MAX_PER_PAGE (the default when unreadable)."""
    value = args.get("per_page", "")
    if value.isascii() and value.isdigit() and int(value) > 0:
        return min(int(value), search.MAX_PER_PAGE)
    return SERVICES_PER_PAGE


def _department_options(choices: Iterable, chosen: str, lang: str) -> Markup:
    """Render the department filter's options (its chosen one selected) in one string.

    Built here, not by the template's loop: the list offers every department on every page,
    and the loop's placements cost more than the options' markup. The markup is the loop's,
    byte for byte, every text escaped as the template escaped it.
    """
    return Markup("".join(
        f'\n      <option value="{escape(d.code)}" {"selected" if d.code == chosen else ""}>'
        f'{escape(localized(d, "name", lang).text)}</option>\n      ' for d in choices))


@bp.get("/services")
@public_page
def services() -> str:
    """List services a page at a time: searched (ranked), by department, work mode, status."""
    query = request.args.get("q", "").strip()[:100]
    department = request.args.get("department", "").strip()[:64]
    mode = request.args.get("mode", "").strip()
    if mode not in WORK_MODES:
        mode = ""
    status = request.args.get("status", "").strip()
    if status not in SERVICE_STATUSES:
        status = ""
    per_page = _per_page(request.args)
    lang = current_lang()
    found = search.service_search_page(
        query, department, mode, status, page=page_number(request.args), per_page=per_page,
        lang=lang,
    )
    rows = found.page.items
    # The filters, kept on every page link (None: left out of the URL).
    filters = {"q": query or None, "department": department or None, "mode": mode or None,
               "status": status or None,
               "per_page": per_page if per_page != SERVICES_PER_PAGE else None}
    choices = catalogue.department_choices()
    fmt = Formats()
    return _render(
        "public/services.html",
        rows=rows,
        cards=_cards(rows, fmt),
        found=found,
        page=found.page,
        filters=filters,
        updated_at=_oldest(row.status for row in rows),
        departments=choices,
        department_options=_department_options(choices, department, lang),
        # The other filters' options (value, name), named with the page's formats.
        mode_options=[(m, fmt.work_mode_label(m)) for m in WORK_MODES],
        status_options=[(s, fmt.status_label(s)) for s in STATUS_ORDER],
        query=query,
        department=department,
        mode=mode,
        status=status,
    )


@bp.get("/departments")
@public_page
def departments() -> str:
    """List departments with their services counted by status."""
    listed = catalogue.department_list_with_status()
    return _render(
        "public/departments.html",
        cards=_department_cards(listed.rows, Formats()),
        updated_at=listed.oldest_status_at if listed.rows else None,
    )


@bp.get("/departments/<code>")
@public_page
def department(code: str) -> str:
    """Show one department: its status counts, open incidents and services with status."""
    overview = catalogue.department_overview(code)
    fmt = Formats()
    history = overview.arrangement_history
    return _render(
        "public/department.html",
        department=overview.department,
        overview=overview,
        cards=_cards(overview.rows, fmt, show_department=False),
        status_counts=_status_counter(fmt)(overview.counts),
        place=department_place(overview.department),
        updated_at=_oldest(row.status for row in overview.rows),
        incidents=overview.incidents,
        arrangement=arrangements.arrangement_in_force(history),  # no statement of its own
        arrangement_history=history,
        # From what the overview read: no statement of their own.
        arrangement_measures=arrangements.arrangement_measures_from(overview),
    )


@bp.get("/live")
def live():
    """Answer the public data version (ETag); 304 while it is unchanged."""
    return live_version_response()
