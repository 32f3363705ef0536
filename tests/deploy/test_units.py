"""The systemd units and the nginx site of deploy/, checked by Debian's own tools.

`systemd-analyze verify` (package systemd) and `nginx -t` (package nginx) read the files as
the server will; the other tests tie the files to the README, the code and each other.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from tests.conftest import ROOT
from tests.deploy.support import (
    INSTALLED_ROOT,
    SITE,
    UNITS,
    code_settings,
    deploy_tool,
    nginx_command,
    runnable_site,
)

WEB = "pantau-web.service"
# Started by a timer, though no periodic command of the README's "Operations" table.
BACKUP = "pantau-backup.service"
# Settings every service shares with the web service: who runs it, where, with what.
SHARED = ("User", "Group", "WorkingDirectory", "EnvironmentFile")


def unit_settings(path: Path) -> dict[str, list[str]]:
    """Return every "Section.Key" of a unit file with its values, in order."""
    settings: dict[str, list[str]] = {}
    section = ""
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        settings.setdefault(f"{section}.{key}", []).append(value)
    return settings


def services() -> dict[str, dict[str, list[str]]]:
    """Return the settings of every service unit of deploy/systemd."""
    return {path.name: unit_settings(path) for path in sorted(UNITS.glob("*.service"))}


def test_every_unit_passes_systemd_analyze_verify(tmp_path):
    systemd_analyze = deploy_tool("systemd-analyze", "systemd")
    # The units name the server's paths; here they name this checkout and the virtual
    # environment running the tests, so that verify also finds every program they start.
    venv_bin = Path(sys.executable).parent
    for path in UNITS.iterdir():
        text = path.read_text().replace(f"{INSTALLED_ROOT}/.venv/bin/", f"{venv_bin}/")
        (tmp_path / path.name).write_text(text.replace(INSTALLED_ROOT, str(ROOT)))
    for program in ("gunicorn", "flask"):
        assert (venv_bin / program).exists(), f"{program} is not installed beside Python"
    names = sorted(p.name for p in tmp_path.iterdir())
    assert {"pantau-web.service", "pantau-backup.timer"} <= set(names)

    result = subprocess.run([systemd_analyze, "verify", "--man=no", *names], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)

    # A warning (an unknown key, a bad value) is printed and "ignored" by systemd: here
    # every line of output is a failure.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def _readme_periodic_commands() -> dict[str, str]:
    """Return the README's periodic commands ("status refresh") with their cadence."""
    readme = (ROOT / "README.md").read_text()
    section = re.search(r"^## Operations$(.*?)^## ", readme, re.M | re.S).group(1)
    rows = re.findall(r"^\| `flask --app wsgi ([a-z -]+)` \| ([^|]+) \|", section, re.M)
    assert rows, "the README's Operations table has changed shape"
    return {command: when.strip() for command, when in rows}


def _cadence(when: str) -> tuple[timedelta, str | None]:
    """Return the interval of a README cadence and the WIB time of day it names, if any."""
    if when == "every minute":
        return timedelta(minutes=1), None
    if match := re.fullmatch(r"every (\d+) minutes", when):
        return timedelta(minutes=int(match.group(1))), None
    if match := re.fullmatch(r"daily, (\d\d:\d\d) WIB", when):
        return timedelta(days=1), match.group(1)
    if match := re.fullmatch(r"weekly, Mondays? (\d\d:\d\d) WIB", when):
        return timedelta(days=7), match.group(1)
    raise AssertionError(f"a cadence this test does not know: {when!r}")


def _elapses(systemd_analyze: str, calendar: str) -> list[datetime]:
    """Return the next four times a calendar expression elapses, in UTC."""
    result = subprocess.run(
        [systemd_analyze, "calendar", "--iterations=4", calendar], capture_output=True,
        text=True, check=True, env={**os.environ, "TZ": "UTC"},
    )
    stamps = re.findall(r"(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC",
                        result.stdout)
    return [datetime.fromisoformat(stamp) for stamp in stamps]


def test_each_periodic_command_of_the_readme_has_a_timer_at_its_cadence():
    systemd_analyze = deploy_tool("systemd-analyze", "systemd")
    commands = _readme_periodic_commands()
    started = {}
    for name, settings in services().items():
        exec_start = settings["Service.ExecStart"][0]
        prefix = f"{INSTALLED_ROOT}/.venv/bin/flask --app wsgi "
        if name not in (WEB, BACKUP):
            assert exec_start.startswith(prefix), name
            started[exec_start.removeprefix(prefix)] = name
    assert set(started) == set(commands)

    for command, when in commands.items():
        interval, time_of_day = _cadence(when)
        timer = UNITS / started[command].replace(".service", ".timer")
        calendar = unit_settings(timer)["Timer.OnCalendar"]
        assert len(calendar) == 1, timer.name

        times = _elapses(systemd_analyze, calendar[0])

        assert len(times) == 4, calendar
        assert {b - a for a, b in zip(times, times[1:], strict=False)} == {interval}, command
        if time_of_day:  # WIB is UTC+7, without daylight saving
            assert (times[0] + timedelta(hours=7)).strftime("%H:%M") == time_of_day


def test_every_service_runs_as_the_web_service_and_as_hardened():
    units = services()
    web = units[WEB]
    assert web["Service.ProtectSystem"] == ["strict"]
    assert web["Service.PrivateTmp"] == ["yes"]
    assert web["Service.NoNewPrivileges"] == ["yes"]
    assert web["Service.Restart"] == ["on-failure"]
    assert web["Service.User"] == ["pantau"]
    assert web["Service.EnvironmentFile"] == ["/etc/pantau/portal.env"]
    writable = " ".join(web["Service.ReadWritePaths"]).split()
    assert writable == [f"{INSTALLED_ROOT}/var", "/var/lib/pantau/uploads"]
    hardening = {key: values for key, values in web.items()
                 if key.startswith("Service.") and key.removeprefix("Service.") in {
                     "NoNewPrivileges", "PrivateTmp", "PrivateDevices", "ProtectSystem",
                     "ProtectHome", "CapabilityBoundingSet", "RestrictAddressFamilies",
                     "SystemCallFilter", "UMask", "RestrictNamespaces", "ProtectProc"}}
    assert len(hardening) == 11

    for name, settings in units.items():
        for key in SHARED:
            assert settings[f"Service.{key}"] == web[f"Service.{key}"], (name, key)
        for key, values in hardening.items():
            assert settings.get(key) == values, (name, key)
        # A job may write more than the web service (the backups), never less.
        assert set(writable) <= set(" ".join(settings["Service.ReadWritePaths"]).split())


def test_the_upload_folder_the_services_may_write_is_the_configured_one():
    template = (ROOT / "deploy" / "portal.env").read_text()
    upload = re.search(r'^PORTAL_UPLOAD_DIR="([^"]+)"$', template, re.M).group(1)
    for name, settings in services().items():
        assert upload in " ".join(settings["Service.ReadWritePaths"]).split(), name


def test_the_kept_downloads_folder_is_in_the_web_units_cache_directory():
    template = (ROOT / "deploy" / "portal.env").read_text()
    kept = Path(re.search(r'^PORTAL_DOWNLOAD_CACHE_DIR="([^"]+)"$', template, re.M).group(1))
    web = services()["pantau-web.service"]
    cache = [Path("/var/cache") / name for name in " ".join(web["Service.CacheDirectory"]).split()]
    assert any(directory in kept.parents for directory in cache), (kept, cache)


def test_the_nginx_site_passes_nginx_t(tmp_path):
    nginx = deploy_tool("nginx", "nginx")
    configuration = runnable_site(tmp_path, https_port=8443, http_port=8080,
                                  app_address="127.0.0.1:8000")

    result = subprocess.run(nginx_command(nginx, configuration, "-t"), capture_output=True,
                            text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    assert not re.search(r"\[(warn|emerg|alert|crit)\]", result.stderr), result.stderr


def test_nginx_takes_the_bodies_the_app_takes_and_proxies_to_gunicorn_s_address():
    site = SITE.read_text()
    defaults = code_settings({})
    size = re.findall(r"^\s*client_max_body_size (\d+)m;$", site, re.M)
    assert [int(value) * 1024 * 1024 for value in size] == [int(defaults["MAX_CONTENT_LENGTH"])]
    upstream = re.search(r"upstream pantau_app \{\s*server ([^;\s]+);", site).group(1)
    assert repr(upstream) == defaults["gunicorn.bind"]
    # One proxy sets X-Forwarded-For, as PORTAL_TRUSTED_PROXIES="1" in deploy/portal.env
    # says; tests/deploy/test_nginx.py checks the client address that reaches the app.
    assert len(re.findall(r"proxy_set_header X-Forwarded-For ", site)) == 1
    assert 'PORTAL_TRUSTED_PROXIES="1"' in (ROOT / "deploy" / "portal.env").read_text()


def test_pantau_flask_runs_a_command_as_the_services_run_theirs():
    script = ROOT / "deploy" / "pantau-flask"
    web = services()[WEB]
    text = script.read_text()

    assert os.access(script, os.X_OK)
    subprocess.run(["sh", "-n", str(script)], check=True)
    for option in (f"--uid={web['Service.User'][0]}", f"--gid={web['Service.Group'][0]}",
                   f"--working-directory={web['Service.WorkingDirectory'][0]}",
                   f"--property=EnvironmentFile={web['Service.EnvironmentFile'][0]}",
                   f"{INSTALLED_ROOT}/.venv/bin/flask --app wsgi \"$@\""):
        assert option in text, option
