"""Settings come from the environment and are documented; every visible string exists in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from layers.settings import Settings, markdown_table

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
    table = readme.split("<!-- SETTINGS -->\n", 1)[1].split("\n<!-- /SETTINGS -->", 1)[0]
    assert table == markdown_table(), ("README.md's settings table is not the one the code makes: replace it with "
                                       "the output of `python -m layers.settings`")


def test_every_string_has_both_languages(tmp_path):
    from dashboard import i18n
    from dashboard.app import create_app
    from layers.settings import Settings

    create_app(Settings(store=str(tmp_path / "s.gpkg"), secret_key="k"))  # imports every page, as Dash does
    strings = i18n.all_strings()
    assert len(strings) > 50
    for key, (zh, en) in strings.items():
        assert zh.strip() and en.strip(), key
