"""The DCAT catalogue parses as RDF and says what a CKAN harvester needs."""

from __future__ import annotations

import pytest
from rdflib import RDF, Graph, Literal, Namespace, URIRef

from portal.services.opendata.datasets import DATASETS
from tests.services.opendata.support import build_province

DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCT = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
BASE = "http://127.0.0.1:8000"
CC_BY = URIRef("https://creativecommons.org/licenses/by/4.0/")
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")


@pytest.fixture
def graph(client):
    """The province's catalogue, parsed as JSON-LD."""
    province = build_province()
    response = client.get("/data/catalog.jsonld")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    return province, Graph().parse(data=response.get_data(as_text=True), format="json-ld")


def _dataset(graph: Graph, name: str) -> URIRef:
    (node,) = graph.subjects(DCT.identifier, Literal(name))
    return node


def test_the_catalogue_lists_every_dataset_published_by_the_province(graph):
    _province, g = graph
    (catalogue,) = g.subjects(RDF.type, DCAT.Catalog)
    datasets = set(g.objects(catalogue, DCAT.dataset))
    assert {str(g.value(d, DCT.identifier)) for d in datasets} == {d.name for d in DATASETS}
    assert all((d, RDF.type, DCAT.Dataset) in g for d in datasets)
    assert (catalogue, DCT.license, CC_BY) in g
    publisher = g.value(catalogue, DCT.publisher)
    names = {(n.language, str(n)) for n in g.objects(publisher, FOAF.name)}
    assert names == {("id", "Pemerintah Provinsi Kalimantan Tengah"),
                     ("en", "Provincial Government of Kalimantan Tengah")}
    assert all(g.value(d, DCT.publisher) == publisher for d in datasets)


def test_each_dataset_has_a_licensed_csv_distribution_to_download(graph):
    _province, g = graph
    for name in (d.name for d in DATASETS):
        dataset = _dataset(g, name)
        distribution = g.value(dataset, DCAT.distribution)
        assert (distribution, RDF.type, DCAT.Distribution) in g
        url = URIRef(f"{BASE}/data/{name}.csv")
        assert g.value(distribution, DCAT.downloadURL) == url
        assert g.value(distribution, DCAT.accessURL) == url
        assert g.value(distribution, DCAT.mediaType) == URIRef(
            "http://www.iana.org/assignments/media-types/text/csv")
        assert (distribution, DCT.license, CC_BY) in g
        assert g.value(distribution, DCT.conformsTo) == URIRef(
            f"{BASE}/data/datapackage.json")
        assert g.value(dataset, DCAT.landingPage) == URIRef(f"{BASE}/id/data#{name}")
        assert str(g.value(dataset, DCT.accrualPeriodicity)).startswith(
            "http://publications.europa.eu/resource/authority/frequency/")
        assert {t.language for t in g.objects(dataset, DCT.title)} == {"id", "en"}


def test_temporal_coverage_comes_from_the_data(graph):
    province, g = graph
    period = g.value(_dataset(g, "service_days"), DCT.temporal)
    start = g.value(period, DCAT.startDate)
    end = g.value(period, DCAT.endDate)
    assert start.datatype == XSD_DATE
    # The first request of samsat-online, 90 days before its move; the last complete day.
    assert start.toPython() == province.first_day
    assert province.first_day < end.toPython() < province.today
    frequency = g.value(_dataset(g, "service_days"), DCT.accrualPeriodicity)
    assert frequency == URIRef("http://publications.europa.eu/resource/authority/frequency/DAILY")
    # The services are a snapshot of the present: no period.
    assert g.value(_dataset(g, "services"), DCT.temporal) is None


def test_the_catalogue_follows_the_configured_licence(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_DATA_LICENCE_URL", "https://example.go.id/lisensi")
    g = Graph().parse(data=client.get("/data/catalog.jsonld").get_data(as_text=True),
                      format="json-ld")
    licences = set(g.objects(None, DCT.license))
    assert licences == {URIRef("https://example.go.id/lisensi")}
