"""Open data: the data page, the CSV downloads, the data package and the DCAT catalogue.

- ``/<lang>/data``: every dataset with what it holds, its columns, update frequency, coverage
  and licence, and download links with filter examples. A public page (portal.web.public.live).
- ``/data/<dataset>.csv``: the dataset, streamed as it is read (``?service=``, ``department=``,
  ``from=``, ``to=`` where the dataset takes them), with the licence in a ``Link`` header;
  kept on disk for the next reader of the same address while it holds (portal.web.data.kept).
- ``/data/datapackage.json``: the data dictionary (Frictionless Data Package).
- ``/data/catalog.jsonld``: the DCAT-AP catalogue for harvesters.

The downloads answer in no language of their own and set no cookie; only their error messages
follow ``?lang=`` or Accept-Language. Anyone may reuse what they get for five minutes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from flask import (
    Blueprint,
    current_app,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from werkzeug.wsgi import wrap_file

from portal.domain.calendar import utc_now, wib_date
from portal.i18n import languages
from portal.services.errors import ValidationError
from portal.services.opendata.datapackage import datapackage_build
from portal.services.opendata.datasets import (
    data_licence,
    dataset_coverages,
    dataset_get,
    dataset_list,
    filter_examples,
)
from portal.services.opendata.dcat import CatalogueAddresses, dcat_catalogue
from portal.services.opendata.downloads import csv_stream
from portal.services.opendata.schema import FIELD_TYPES, FREQUENCIES
from portal.services.opendata.selection import selection_parse
from portal.web.data.kept import kept_enabled, kept_key, kept_open, kept_stream
from portal.web.public.live import cached_body, data_version, public_page
from portal.web.urls import absolute_url_for

bp = Blueprint("data", __name__)

# Browsers, proxies and harvesters may reuse a download this long without asking (seconds).
MAX_AGE = 300
# Datasets whose every change moves the public data version (catalogue rows and histories,
# audited staff edits, incidents, maintenance, availability checks), so that it, with the
# date, makes a correct validator. The others change with time or with tables it does not
# watch (daily aggregates, feedback, survey answers): they are sent without one.
VERSIONED = frozenset({"departments", "work_mode_changes", "commitment_changes", "incidents",
                       "maintenance", "availability_days"})

TYPE_LABELS = {
    "string": _l("text"),
    "integer": _l("whole number"),
    "number": _l("number"),
    "boolean": _l("true or false"),
    "date": _l("date, YYYY-MM-DD"),
    "datetime": _l("date and time, ISO 8601 with offset"),
}
UNIT_LABELS = {
    "fraction": _l("share from 0 to 1"),
    "hours": _l("hours"),
    "days": _l("days"),
    "score": _l("score from 1 to 4"),
    "index": _l("index from 25 to 100"),
    "requests": _l("requests"),
    "feedback": _l("feedback"),
    "responses": _l("responses"),
    "checks": _l("checks"),
}
FREQUENCY_LABELS = {
    "CONT": _l("Updated continuously, as the portal receives data."),
    "DAILY": _l("A new day every day; earlier days change when departments report late."),
    "IRREG": _l("Updated when the catalogue changes."),
}
assert set(FREQUENCY_LABELS) == set(FREQUENCIES) and set(TYPE_LABELS) == set(FIELD_TYPES)
assert {f.unit for d in dataset_list() for f in d.fields if f.unit} <= set(UNIT_LABELS)


def _link_header() -> str:
    """Return the Link header of a download: its licence and its data dictionary."""
    licence = data_licence()
    dictionary = absolute_url_for("data.datapackage")
    return (f'<{licence.url}>; rel="license", '
            f'<{dictionary}>; rel="describedby"; type="application/json"')


def _error_lang() -> str:
    """Return the language of a download's error message: ?lang, else Accept-Language."""
    lang = request.args.get("lang", "")
    if lang in languages():
        return lang
    return (request.accept_languages.best_match(languages())
            or current_app.config["BABEL_DEFAULT_LOCALE"])


def _problem(error: ValidationError):
    """Answer 400 with one line per problem, in plain text."""
    body = "\n".join(f"{e.field}: {e.error}" for e in error.errors) + "\n"
    response = current_app.response_class(body, status=400, mimetype="text/plain")
    response.headers["Content-Language"] = _error_lang()
    return response


@bp.get("/data/<name>.csv")
def download(name: str):
    """Stream one dataset as CSV, filtered as the query string asks; later readers of the
    same selection get the copy kept on disk while it holds (portal.web.data.kept)."""
    dataset = dataset_get(name)
    now = utc_now()
    with force_locale(_error_lang()):
        try:
            selection = selection_parse(dataset, dict(request.args.lists()), now)
        except ValidationError as error:
            return _problem(error)
    versioned = dataset.name in VERSIONED
    key = f"{request.full_path}|{data_version()}|{wib_date(now)}|{_link_header()}"
    kept = None
    if kept_enabled():
        kept_as = kept_key(key)
        kept = kept_open(kept_as, None if versioned else MAX_AGE,
                         gzip_accepted=request.accept_encodings["gzip"] > 0)
    if kept is not None:
        file, size, coding = kept
        response = current_app.response_class(
            wrap_file(request.environ, file), mimetype="text/csv", direct_passthrough=True)
        response.content_length = size
        if coding:  # sent as kept: Flask-Compress leaves an encoded answer alone
            response.content_encoding = coding
            response.vary.add("Accept-Encoding")
    else:
        body = csv_stream(dataset, selection)
        if kept_enabled():
            body = kept_stream(kept_as, body)
        response = current_app.response_class(stream_with_context(body), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{dataset.name}.csv"'
    response.headers["Link"] = _link_header()
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    if versioned:
        # Weak: the same rows whatever the encoding (compression keeps a weak ETag as is).
        response.set_etag(hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:20],
                          weak=True)
        return response.make_conditional(request)
    return response


def _json_document(build: Callable[[], dict], mimetype: str):
    """Answer the JSON document build() returns with a strong ETag; 304 when the client has
    it. Kept in the page cache while the public data version holds."""
    kept = cached_body(lambda: (
        json.dumps(build(), ensure_ascii=False, indent=1).encode("utf-8"), utc_now()))
    response = current_app.response_class(kept.body, mimetype=mimetype)
    response.headers["Link"] = f'<{data_licence().url}>; rel="license"'
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE
    response.set_etag(kept.etag)
    return response.make_conditional(request)


def _homepage() -> str:
    return absolute_url_for("data.index", lang=current_app.config["BABEL_DEFAULT_LOCALE"])


@bp.get("/data/datapackage.json")
def datapackage():
    """Return the data dictionary of every dataset as a Frictionless Data Package."""
    return _json_document(lambda: datapackage_build(
        data_licence(), current_app.config["PORTAL_PROVINCE_NAME"], _homepage()),
        "application/json")


@bp.get("/data/catalog.jsonld")
def catalogue():
    """Return the DCAT-AP catalogue of the datasets as JSON-LD, for harvesters."""
    return _json_document(_dcat_catalogue, "application/ld+json")


def _dcat_catalogue() -> dict:
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    addresses = CatalogueAddresses(
        catalogue=absolute_url_for("data.catalogue"),
        datapackage=absolute_url_for("data.datapackage"),
        homepage=_homepage(),
        landing_page=lambda name: absolute_url_for("data.index", lang=default,
                                                   _anchor=name),
        download=lambda name: absolute_url_for("data.download", name=name),
    )
    return dcat_catalogue(addresses, data_licence(), current_app.config["PORTAL_PROVINCE_NAME"],
                          utc_now())


def example_filters(filters: tuple[str, ...], values: dict[str, str]) -> list[dict[str, str]]:
    """Return up to two examples of a dataset's filters: one code, and a period."""
    examples = []
    for name in ("service", "department"):
        if name in filters:
            examples.append({name: values[name]})
            break
    if "from" in filters:
        period = {"from": values["from"], "to": values["to"]}
        if "department" in filters:
            period = {"department": values["department"], **period}
        examples.append(period)
    return examples


@bp.get("/<lang>/data")
@public_page
def index() -> str:
    """Show every dataset: what it holds, its columns, coverage, licence and downloads."""
    now = utc_now()
    values = filter_examples(wib_date(now))
    coverages = dataset_coverages(now)
    datasets = [
        {
            "dataset": dataset,
            "coverage": coverages[dataset.name],
            "examples": [url_for("data.download", name=dataset.name, **example)
                         for example in example_filters(dataset.filters, values)],
        }
        for dataset in dataset_list()
    ]
    return render_template(
        "data/index.html",
        datasets=datasets,
        licence=data_licence(),
        type_labels=TYPE_LABELS,
        unit_labels=UNIT_LABELS,
        frequency_labels=FREQUENCY_LABELS,
    )
