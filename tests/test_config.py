"""Configuration that must hold on a fresh installation."""

from __future__ import annotations

import stat

import pytest

from portal.config import local_secret_key


def test_a_missing_secret_key_is_generated_once_and_kept_private(tmp_path):
    path = tmp_path / "var" / "secret_key"

    first = local_secret_key(path)
    second = local_secret_key(path)

    assert first == second
    assert len(first) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_each_installation_gets_its_own_secret_key(tmp_path):
    assert local_secret_key(tmp_path / "a") != local_secret_key(tmp_path / "b")


def test_gunicorn_serves_the_quick_start_address_and_logs_no_personal_data(monkeypatch):
    import runpy
    from pathlib import Path

    for name in ("PORTAL_BIND", "WEB_CONCURRENCY", "PORTAL_THREADS"):
        monkeypatch.delenv(name, raising=False)
    settings = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))

    assert settings["bind"] == "127.0.0.1:8000"
    assert settings["worker_class"] == "gthread"
    # %(h)s is the client address, %(r)s/%(q)s/%(U)s%(q)s would log query strings.
    for token in ("%(h)s", "%(r)s", "%(q)s", "%({x-forwarded-for}i)s"):
        assert token not in settings["access_log_format"]


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/id/feedback/K7QM-3TXV-9PHD", "/id/feedback/[code]"),
        ("/api/v1/feedback/K7QM3TXV9PHD", "/api/v1/feedback/[code]"),
        ("/en/feedback/k7qm-3txv-9phd/reply", "/en/feedback/[code]/reply"),
        ("/id/feedback/new", "/id/feedback/new"),
        ("/id/services/samsat-pkb-tahunan", "/id/services/samsat-pkb-tahunan"),
    ],
)
def test_access_log_masks_tracking_codes_in_paths(path, logged):
    from portal.web.access_log import mask_tracking_codes

    assert mask_tracking_codes(path) == logged


def test_gunicorn_uses_the_privacy_logger():
    import runpy
    from pathlib import Path

    settings = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
    assert settings["logger_class"] == "portal.web.access_log.PrivacyLogger"


def test_a_database_error_never_quotes_what_was_written(app):
    """A refused write's error text (logged, or printed by a command) quotes no value written.

    PostgreSQL's own message may name the duplicated key (here a department code, never
    personal data); the statement's other parameters are hidden.
    """
    from sqlalchemy.exc import IntegrityError

    from portal.extensions import db
    from tests.factories import create_department

    create_department(code="dinkes")
    with pytest.raises(IntegrityError) as refused:
        create_department(code="dinkes", name_id="Siti Rahma, 0812 3456 7890",
                          name_en="siti.rahma@example.com")
    db.session.rollback()
    assert "0812 3456 7890" not in str(refused.value)
    assert "siti.rahma@example.com" not in str(refused.value)
    assert "parameters hidden" in str(refused.value)
