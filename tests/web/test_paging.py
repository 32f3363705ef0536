"""The page number read from ``?page=N`` by every paged list."""

import pytest

from portal.web.paging import page_number


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, 1),
        ({"page": "3"}, 3),
        ({"page": "99999"}, 99999),
        ({"page": "100000"}, 1),
        ({"page": "0"}, 1),
        ({"page": "-2"}, 1),
        ({"page": "2.5"}, 1),
        ({"page": "abc"}, 1),
        ({"page": ""}, 1),
        ({"page": "²"}, 1),
        ({"page": "٣"}, 1),
    ],
)
def test_page_number_falls_back_to_the_first_page_on_nonsense(args, expected):
    assert page_number(args) == expected
