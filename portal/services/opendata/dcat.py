"""The harvestable catalogue: DCAT-AP as JSON-LD (``/data/catalog.jsonld``).

What a CKAN DCAT harvester (Satu Data portals) reads: one ``dcat:Catalog`` published by the
province, one ``dcat:Dataset`` per published dataset with its temporal coverage (from the
data) and update frequency, and one CSV ``dcat:Distribution`` each with its download address,
media type, licence and the data package it conforms to. Texts are given in Indonesian and
English (language-tagged literals). The ``@context`` is inline: a harvester needs nothing but
this document. Identifiers are stable: the catalogue's own address with a fragment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from portal.services.opendata.datapackage import in_both, package_texts
from portal.services.opendata.datasets import DATASETS, Licence, dataset_coverages
from portal.services.opendata.schema import Dataset

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
# The EU vocabularies DCAT-AP takes its codes from.
FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
FILE_TYPE_CSV = "http://publications.europa.eu/resource/authority/file-type/CSV"
LANGUAGES = ("http://publications.europa.eu/resource/authority/language/IND",
             "http://publications.europa.eu/resource/authority/language/ENG")
MEDIA_TYPE_CSV = "http://www.iana.org/assignments/media-types/text/csv"


@dataclass(frozen=True)
class CatalogueAddresses:
    """The absolute addresses the catalogue points to (built by the web layer)."""

    catalogue: str
    datapackage: str
    homepage: str
    landing_page: Callable[[str], str]
    download: Callable[[str], str]


def _texts(english: str, indonesian: str) -> list[dict]:
    """Return a text as language-tagged literals."""
    return [{"@value": indonesian, "@language": "id"}, {"@value": english, "@language": "en"}]


def _date(value: Any) -> dict:
    return {"@value": value.isoformat(), "@type": "xsd:date"}


def _dataset(dataset: Dataset, addresses: CatalogueAddresses, licence: Licence,
             publisher: str, coverage: tuple[date, date] | None) -> dict:
    """Return one dcat:Dataset node with its CSV distribution."""
    download = addresses.download(dataset.name)
    node: dict[str, Any] = {
        "@id": f"{addresses.catalogue}#{dataset.name}",
        "@type": "dcat:Dataset",
        "dct:identifier": dataset.name,
        "dct:title": _texts(*in_both(dataset.title)),
        "dct:description": _texts(*in_both(dataset.description)),
        "dct:publisher": {"@id": publisher},
        "dct:language": [{"@id": language} for language in LANGUAGES],
        "dct:accrualPeriodicity": {"@id": FREQUENCY + dataset.frequency},
        "dcat:landingPage": {"@id": addresses.landing_page(dataset.name)},
        "dcat:distribution": {
            "@id": f"{addresses.catalogue}#{dataset.name}-csv",
            "@type": "dcat:Distribution",
            "dct:title": _texts(*in_both(dataset.title)),
            "dcat:accessURL": {"@id": download},
            "dcat:downloadURL": {"@id": download},
            "dcat:mediaType": {"@id": MEDIA_TYPE_CSV},
            "dct:format": {"@id": FILE_TYPE_CSV},
            "dct:license": {"@id": licence.url},
            "dct:conformsTo": {"@id": addresses.datapackage},
        },
    }
    if coverage is not None:
        node["dct:temporal"] = {
            "@type": "dct:PeriodOfTime",
            "dcat:startDate": _date(coverage[0]),
            "dcat:endDate": _date(coverage[1]),
        }
    return node


def dcat_catalogue(addresses: CatalogueAddresses, licence: Licence, province: str,
                   now: datetime) -> dict:
    """Return the DCAT-AP catalogue of every published dataset as a JSON-LD document."""
    texts = package_texts(province)
    publisher = f"{addresses.catalogue}#publisher"
    coverages = dataset_coverages(now)
    return {
        "@context": CONTEXT,
        "@graph": [
            {
                "@id": f"{addresses.catalogue}#catalogue",
                "@type": "dcat:Catalog",
                "dct:title": _texts(*texts["title"]),
                "dct:description": _texts(*texts["description"]),
                "dct:publisher": {"@id": publisher},
                "dct:license": {"@id": licence.url},
                "dct:language": [{"@id": language} for language in LANGUAGES],
                "foaf:homepage": {"@id": addresses.homepage},
                "dcat:dataset": [{"@id": f"{addresses.catalogue}#{dataset.name}"}
                                 for dataset in DATASETS],
            },
            {
                "@id": publisher,
                "@type": "foaf:Organization",
                "foaf:name": _texts(*texts["publisher"]),
            },
            {
                "@id": licence.url,
                "@type": "dct:LicenseDocument",
                "dct:title": licence.name,
            },
            *(_dataset(dataset, addresses, licence, publisher, coverages[dataset.name])
              for dataset in DATASETS),
        ],
    }
