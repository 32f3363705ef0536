"""Open311's XML is written as text: the same bytes ElementTree wrote of the same tree."""

from xml.etree.ElementTree import Element, SubElement, tostring

import pytest

from portal.web.open311.blueprint import _ITEM_TAGS, _xml_text, _xml_write


def _element_tree(root: str, value) -> str:
    """What the portal wrote before: the tree built and serialised by ElementTree."""
    def fill(element, item):
        if isinstance(item, dict):
            for key, child in item.items():
                fill(SubElement(element, key), child)
        elif isinstance(item, list):
            for child in item:
                fill(SubElement(element, _ITEM_TAGS[element.tag]), child)
        else:
            element.text = _xml_text(item)

    element = Element(root)
    fill(element, value)
    return tostring(element, encoding="unicode")


def _written(root: str, value) -> str:
    parts: list[str] = []
    _xml_write(parts, root, value)
    return "".join(parts)


@pytest.mark.parametrize("root, value", [
    ("services", [{"service_code": "a&b", "service_name": "Izin <Usaha> \"Toko\" 'x'",
                   "description": None, "metadata": True, "type": "realtime",
                   "keywords": "", "group": "Dinas > Badan"}]),
    ("services", []),
    ("service_definition", {"service_code": "x", "attributes": [
        {"code": "integrity", "variable": False, "values": []},
        {"code": "c", "values": [{"key": 1, "name": "one\x00\x1ftwo\ttab\nline"}]}]}),
    ("discovery", {"changeset": "2026-12-01", "contact": "", "endpoints": [
        {"specification": "http://wiki.open311.org/GeoReport_v2", "formats": ["text/xml",
                                                                               "application/json"]}]}),
    ("errors", [{"code": 400, "description": "]]> & <![CDATA["}]),
    ("service_requests", [{"service_request_id": "PL-7K3M", "lat": 1.5, "long": -0.25,
                           "media_url": None, "status_notes": "ok" * 3}]),
])
def test_xml_writer_writes_what_element_tree_wrote(root, value):
    assert _written(root, value) == _element_tree(root, value)


def test_xml_writer_escapes_markup_in_texts():
    written = _written("errors", [{"description": "<script>alert(1)</script> & more"}])
    assert "<script>" not in written
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in written
