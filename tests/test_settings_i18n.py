"""Settings come from the environment and are documented; every visible string exists in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from layers.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_settings_from_env():
    s = Settings.from_env({"RISKMAP_STORE": "/tmp/x.gpkg", "PORT": "9000", "RISKMAP_AUTH": "0",
                           "RISKMAP_INTERVALS": '{"major": 15}'})
    assert s.store == "/tmp/x.gpkg" and s.port == 9000 and s.auth is False
    assert s.intervals["major"] == 15 and s.intervals["low"] == 365
    with pytest.raises(ValueError, match="RISKMAP_PORT"):
        Settings.from_env({"RISKMAP_PORT": "abc"})


def test_every_setting_is_documented_in_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [var for var, _, _ in Settings.documented() if var not in readme]
    assert not missing, f"settings not documented in README.md: {missing}"


def test_every_string_has_both_languages():
    import importlib
    import pkgutil

    import dashboard.pages
    from dashboard import i18n

    importlib.import_module("dashboard.components.nav")
    for m in pkgutil.iter_modules(dashboard.pages.__path__):
        try:
            importlib.import_module(f"dashboard.pages.{m.name}")
        except Exception as exc:  # register_page outside an app raises; strings are registered before it
            if "register_page" not in str(exc) and "use_pages" not in str(exc):
                raise
    strings = i18n.all_strings()
    assert len(strings) > 20
    for key, (zh, en) in strings.items():
        assert zh.strip() and en.strip(), key
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh) or zh == en or zh.isascii(), key
