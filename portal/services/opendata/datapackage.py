"""The data dictionary as a Frictionless Data Package (``/data/datapackage.json``).

Every resource is one dataset; its ``path`` is the CSV's file name, which resolves against
the package's own address to the download (``/data/datapackage.json`` → ``/data/<name>.csv``),
and to the files themselves when the package is saved beside them. Texts are English in the
standard properties (``title``, ``description``) and Indonesian in the custom properties
``title_id`` and ``description_id`` (the ``_id``/``_en`` naming of the portal's own bilingual
fields). Units are in a custom ``unit`` property: ``fraction`` (a share between 0 and 1),
``hours``, ``days``, ``score`` (1 to 4), ``index`` (25 to 100), or what is counted
(``requests``, ``feedback``, ``responses``, ``checks``).
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from portal.services.opendata.datasets import DATASETS, Licence
from portal.services.opendata.schema import Dataset, Field

PACKAGE_NAME = "pantau-layanan"


def in_both(text: Any) -> tuple[str, str]:
    """Return a lazy translatable text in English and in Indonesian."""
    with force_locale("en"):
        english = str(text)
    with force_locale("id"):
        indonesian = str(text)
    return english, indonesian


def _field(field: Field) -> dict:
    """Return a Table Schema field descriptor."""
    english, indonesian = in_both(field.description)
    descriptor: dict[str, Any] = {
        "name": field.name,
        "type": field.type,
        "description": english,
        "description_id": indonesian,
    }
    if field.unit:
        descriptor["unit"] = field.unit
    constraints: dict[str, Any] = {}
    if field.required:
        constraints["required"] = True
    if field.enum is not None:
        constraints["enum"] = list(field.enum)
    if field.minimum is not None:
        constraints["minimum"] = field.minimum
    if field.maximum is not None:
        constraints["maximum"] = field.maximum
    if constraints:
        descriptor["constraints"] = constraints
    return descriptor


def resource_descriptor(dataset: Dataset) -> dict:
    """Return the Tabular Data Resource descriptor of one dataset."""
    title, title_id = in_both(dataset.title)
    description, description_id = in_both(dataset.description)
    schema: dict[str, Any] = {
        "fields": [_field(field) for field in dataset.fields],
        "primaryKey": list(dataset.primary_key),
        "missingValues": [""],
    }
    if dataset.foreign_keys:
        schema["foreignKeys"] = [
            {"fields": list(key.fields),
             "reference": {"resource": key.resource, "fields": list(key.reference_fields)}}
            for key in dataset.foreign_keys
        ]
    return {
        "name": dataset.name,
        "path": f"{dataset.name}.csv",
        "profile": "tabular-data-resource",
        "title": title,
        "title_id": title_id,
        "description": description,
        "description_id": description_id,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "dialect": {"delimiter": ",", "quoteChar": '"', "doubleQuote": True,
                    "lineTerminator": "\r\n", "header": True},
        "schema": schema,
    }


def package_texts(province: str) -> dict[str, tuple[str, str]]:
    """Return the package's title, description and publisher, in English and Indonesian."""
    return {
        "title": in_both(_l("Pantau Layanan: open data on the public services of "
                            "%(province)s", province=province)),
        "description": in_both(_l(
            "Work modes, commitments and performance of the provincial government's public "
            "services, citizens' feedback and satisfaction, incidents and availability, as "
            "the portal's pages show them.")),
        "publisher": in_both(_l("Provincial Government of %(province)s", province=province)),
    }


def datapackage_build(licence: Licence, province: str, homepage: str) -> dict:
    """Return the Data Package describing every published dataset, field by field."""
    texts = package_texts(province)
    return {
        "profile": "tabular-data-package",
        "name": PACKAGE_NAME,
        "title": texts["title"][0],
        "title_id": texts["title"][1],
        "description": texts["description"][0],
        "description_id": texts["description"][1],
        "homepage": homepage,
        "licenses": [{"path": licence.url, "title": licence.name}],
        "contributors": [{"title": texts["publisher"][0], "role": "publisher"}],
        "resources": [resource_descriptor(dataset) for dataset in DATASETS],
    }
