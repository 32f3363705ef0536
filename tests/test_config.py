"""Configuration that must hold on a fresh installation."""

from __future__ import annotations

import stat

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
