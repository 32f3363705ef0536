"""Translated names of codes: the status of a service, beside those of feedback."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from portal.models.metrics import SERVICE_STATUSES
from portal.web.labels import service_status_label, status_label


@pytest.mark.parametrize(
    ("status", "english", "indonesian"),
    [
        ("at_risk", "At risk", "Berisiko"),
        ("meeting", "Meeting its commitment", "Memenuhi komitmen"),
        ("insufficient_data", "Not enough data", "Data belum cukup"),
    ],
)
def test_a_service_status_has_a_name_in_each_language(app, status, english, indonesian):
    with force_locale("en"):
        assert service_status_label(status) == english
    with force_locale("id"):
        assert service_status_label(status) == indonesian


def test_every_service_status_is_named_and_apart_from_feedback_statuses(app):
    with force_locale("en"):
        names = {service_status_label(status) for status in SERVICE_STATUSES}
        assert not names & set(SERVICE_STATUSES)  # no code shown as it is stored
        assert len(names) == len(SERVICE_STATUSES)
        # "resolved" is a feedback status only: the two lists do not mix.
        assert status_label("resolved") == "Resolved"
        assert service_status_label("resolved") == "resolved"
