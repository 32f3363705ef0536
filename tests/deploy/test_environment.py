"""The environment file template (deploy/portal.env): every setting, defaults that are true."""

from __future__ import annotations

import re

from tests.conftest import ROOT
from tests.deploy.support import ENVIRONMENT_TEMPLATE, code_settings

# KEY="value", or #KEY="value" for a setting shown at its default.
ASSIGNMENT = re.compile(r'^(#?)([A-Z][A-Z0-9_]*)="([^"\\$]*)"$')
# Where the code reads a setting from the environment.
READ = re.compile(r'(?:os\.environ\.get|os\.getenv|_env_bool)\(\s*"([A-Z][A-Z0-9_]*)"'
                  r'|os\.environ\[\s*"([A-Z][A-Z0-9_]*)"\s*\]')
# Read from the environment, but no setting of a running portal: the password `users create`
# takes without a prompt.
NOT_SETTINGS = {"PORTAL_NEW_PASSWORD"}


def template() -> dict[str, tuple[bool, str]]:
    """Return each key of the template: (active, value)."""
    settings = {}
    for line in ENVIRONMENT_TEMPLATE.read_text().splitlines():
        match = ASSIGNMENT.match(line)
        if match:
            commented, key, value = match.groups()
            assert key not in settings, f"{key} appears twice"
            settings[key] = (not commented, value)
    return settings


def settings_the_code_reads() -> set[str]:
    """Return every environment variable the portal and gunicorn.conf.py read."""
    sources = [*sorted((ROOT / "portal").rglob("*.py")), ROOT / "gunicorn.conf.py"]
    found = set()
    for path in sources:
        for match in READ.finditer(path.read_text()):
            found.add(match.group(1) or match.group(2))
    return found - NOT_SETTINGS


def test_every_line_is_a_comment_or_a_quoted_assignment_both_systemd_and_sh_read_alike():
    for number, line in enumerate(ENVIRONMENT_TEMPLATE.read_text().splitlines(), 1):
        if not line or (line.startswith("#") and not re.match(r"#[A-Z]", line)):
            continue
        assert ASSIGNMENT.match(line), f"line {number}: {line}"


def test_the_template_names_every_setting_the_code_reads_and_no_other():
    assert settings_the_code_reads() - set(template()) == set(), "missing from the template"
    assert set(template()) - settings_the_code_reads() == set(), "read by no code"


def test_each_setting_shown_commented_is_at_the_code_default():
    """Uncommenting a line must change nothing: the template's defaults are the code's."""
    commented = {key: value for key, (active, value) in template().items() if not active}
    assert len(commented) > 20  # mail, rate limits, gunicorn... are shown at their default

    assert code_settings(commented) == code_settings({})


def test_production_must_fill_in_the_secret_key_and_gets_https_cookies_behind_one_proxy():
    active = {key: value for key, (on, value) in template().items() if on}
    assert "CHANGE_ME" in active["SECRET_KEY"]

    filled = {key: value.replace("CHANGE_ME", "s3cret") for key, value in active.items()}
    settings = code_settings(filled)

    assert settings["SESSION_COOKIE_SECURE"] == "True"
    assert settings["PORTAL_TRUSTED_PROXIES"] == "1"
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("'postgresql+psycopg://")
    assert settings["RATELIMIT_STORAGE_URI"] == repr(active["REDIS_URL"])
    assert settings["PORTAL_UPLOAD_DIR"] == "'/var/lib/pantau/uploads'"
