"""Settings are validated when they are built: a value that is not allowed stops the start with a message that
names the variable, the value and what is allowed, in Chinese and English."""

from __future__ import annotations

import pydantic
import pytest

from layers.settings import Settings, SettingsInvalid

# (variable, bad value, a piece of the Chinese "allowed" text, a piece of the English one)
BAD = [
    ("RISKMAP_LANG", "fr", "zh、en 之一", "one of zh, en"),
    ("RISKMAP_H3_RESOLUTION", "99", "6 到 10 的整数", "a whole number from 6 to 10"),
    ("RISKMAP_H3_RESOLUTION", "8.5", "6 到 10 的整数", "a whole number from 6 to 10"),
    ("RISKMAP_TILE_CRS", "bd09", "wgs84、gcj02 之一", "one of wgs84, gcj02"),
    ("RISKMAP_REACH_MINUTES", "-5", "大于 0", "over 0 up to 240"),
    ("RISKMAP_REACH_MINUTES", "nan", "大于 0", "over 0 up to 240"),
    ("RISKMAP_INTERVALS", '{"major":"thirty"}', "整数（天）", "a whole number of days"),
    ("RISKMAP_INTERVALS", '{"major":0}', "整数（天）", "a whole number of days"),
    ("RISKMAP_INTERVALS", '{"majr":30}', "major、high、moderate、low 之一", "one of major, high, moderate, low"),
    ("RISKMAP_INTERVALS", "{major: 30}", "JSON 对象", "a JSON object"),
    ("RISKMAP_INTERVALS", "[30]", "JSON 对象", "a JSON object"),
    ("RISKMAP_CONDITION_INTERVALS", '{"6":30}', "1、2、3、4、5 之一", "one of 1, 2, 3, 4, 5"),
    ("RISKMAP_GRADE_WEIGHTS", '{"major":-1}', "不小于 0", "a number from 0 to 1000"),
    ("RISKMAP_VENUE_GRADES", '{"ktv":"red"}', "major、high、moderate、low 之一", "one of major, high, moderate"),
    ("RISKMAP_VENUE_HOURS", '{"ktv":"evenings"}', "19:00-23:59", "hours like 19:00-23:59"),
    ("RISKMAP_SERVICE_MINUTES", '{"enterprise.major":30}', "图层名", "a layer (enterprises, venues"),
    ("RISKMAP_RISK_INDEX_WEIGHTS", '{"major_hazard":8}', "open_major_hazard", "open_major_hazard"),
    ("RISKMAP_SECURE_COOKIES", "maybe", "auto、1、0 之一", "one of auto, 1, 0"),
    ("RISKMAP_AUTH", "ture", "true/false", "1/0, true/false, yes/no, on/off"),
    ("RISKMAP_AUTH", "t", "true/false", "1/0, true/false, yes/no, on/off"),
    ("RISKMAP_BEHIND_PROXY", "enabled", "true/false", "1/0, true/false, yes/no, on/off"),
    ("RISKMAP_PORT", "abc", "1 到 65535 的整数", "a whole number from 1 to 65535"),
    ("PORT", "70000", "1 到 65535 的整数", "a whole number from 1 to 65535"),
    ("RISKMAP_TILE_URL", "http://tiles.local/{z}/{x}.png", "{z} {x} {y}", "with {z}, {x} and {y}"),
    ("RISKMAP_WALL_FRAME_ORIGIN", "https://screen.gov.cn/x; script-src *", "http(s)://主机", "http(s)://host"),
    ("RISKMAP_WALL_REFRESH_S", "0", "1 到 86400 的整数（秒）", "a whole number of seconds from 1 to 86400"),
    ("RISKMAP_DEMO_ENTERPRISES", "-3", "1 到 1000000 的整数", "a whole number from 1 to 1000000"),
]


@pytest.mark.parametrize(("var", "value", "zh", "en"), BAD, ids=[f"{v}={x}" for v, x, _, _ in BAD])
def test_a_bad_value_is_refused_naming_variable_value_and_what_is_allowed(var, value, zh, en):
    with pytest.raises(SettingsInvalid) as caught:
        Settings.from_env({var: value})
    message = str(caught.value)
    assert var in message and repr(value) in message
    assert "allowed: " in message and zh in message and en in message
    assert "无效" in message and "is not valid" in message
    assert isinstance(caught.value, ValueError)


def test_a_bad_map_value_names_the_key():
    with pytest.raises(SettingsInvalid, match="key 'major' has 'thirty'") as caught:
        Settings.from_env({"RISKMAP_INTERVALS": '{"major":"thirty"}'})
    assert "键 'major' 的值 'thirty'" in str(caught.value)


def test_every_bad_value_is_listed_at_once():
    with pytest.raises(SettingsInvalid) as caught:
        Settings.from_env({"RISKMAP_LANG": "fr", "RISKMAP_H3_RESOLUTION": "99"})
    assert "RISKMAP_LANG='fr'" in str(caught.value) and "RISKMAP_H3_RESOLUTION='99'" in str(caught.value)


def test_a_variable_that_is_no_setting_is_refused_with_a_suggestion():
    with pytest.raises(SettingsInvalid, match="did you mean RISKMAP_H3_RESOLUTION") as caught:
        Settings.from_env({"RISKMAP_H3_RESOLUTON": "9"})
    assert "RISKMAP_H3_RESOLUTON" in str(caught.value) and "是否想写" in str(caught.value)
    # the users command's password variable is not a setting, and not refused
    assert Settings.from_env({"RISKMAP_NEW_PASSWORD": "x" * 12}).lang == "zh"


@pytest.mark.parametrize(("word", "value"), [("1", True), ("true", True), ("Yes", True), (" on ", True),
                                             ("0", False), ("FALSE", False), ("no", False), ("off", False)])
def test_booleans_take_the_on_off_words(word, value):
    assert Settings.from_env({"RISKMAP_AUTH": word}).auth is value
    assert Settings.from_env({"RISKMAP_BEHIND_PROXY": word}).behind_proxy is value


@pytest.mark.parametrize(("word", "value"), [("auto", "auto"), ("AUTO", "auto"), ("1", "1"), ("0", "0"),
                                             ("true", "1"), ("off", "0")])
def test_secure_cookies_is_auto_or_an_on_off_word(word, value):
    assert Settings.from_env({"RISKMAP_SECURE_COOKIES": word}).secure_cookies == value


def test_good_values_are_taken_and_maps_are_merged_over_the_defaults():
    s = Settings.from_env({
        "RISKMAP_LANG": "en", "RISKMAP_H3_RESOLUTION": "9", "RISKMAP_TILE_CRS": "gcj02", "RISKMAP_REACH_MINUTES": "12.5",
        "RISKMAP_TILE_URL": "https://tiles.intra/{z}/{x}/{y}.png", "RISKMAP_WALL_FRAME_ORIGIN": "https://screen.gov.cn",
        "RISKMAP_CONDITION_INTERVALS": '{"5": 14}', "RISKMAP_VENUE_HOURS": '{"ktv": "19:00-02:00,14:00-17:00"}',
        "RISKMAP_SERVICE_MINUTES": '{"venues.high": 50, "bridges": 30}'})
    assert (s.lang, s.h3_resolution, s.tile_crs, s.reach_minutes) == ("en", 9, "gcj02", 12.5)
    assert s.condition_intervals == {"5": 14, "4": 60, "3": 180, "2": 365, "1": 365}
    assert s.venue_hours["ktv"] == "19:00-02:00,14:00-17:00" and s.venue_hours["bar"] == "19:00-23:59"
    assert s.service_minutes["venues.high"] == 50 and s.service_minutes["enterprises.major"] == 120
    assert Settings.from_env({"RISKMAP_VENUE_HOURS": '{"hotel": "24h"}'}).venue_hours["hotel"] == "24h"


def test_an_override_wins_and_its_variable_is_not_read():
    assert Settings.from_env({"RISKMAP_PORT": "abc"}, port=9000).port == 9000
    assert Settings.from_env({"PORT": "9100"}, port=None).port == 9100
    assert Settings.from_env({"PORT": "9100", "RISKMAP_PORT": "9200"}).port == 9200
    with pytest.raises(SettingsInvalid, match="RISKMAP_PORT=0 is not valid"):
        Settings.from_env({"PORT": "9100"}, port=0)


def test_keyword_construction_is_validated_and_ignores_the_process_environment(monkeypatch):
    monkeypatch.setenv("RISKMAP_LANG", "en")
    monkeypatch.setenv("RISKMAP_H3_RESOLUTION", "99")
    s = Settings(store="/tmp/x.gpkg", secret_key="k", wall_refresh_s=5, auth=False, behind_proxy=True)
    assert (s.lang, s.h3_resolution, s.wall_refresh_s, s.auth, s.behind_proxy) == ("zh", 8, 5, False, True)
    assert Settings().intervals == {"major": 30, "high": 90, "moderate": 180, "low": 365}
    assert Settings(intervals={"high": 120}).intervals["major"] == 30
    with pytest.raises(SettingsInvalid, match="RISKMAP_LANG='fr'"):
        Settings(lang="fr")
    with pytest.raises(SettingsInvalid, match="there is no setting RISKMAP_LANGUAGE"):
        Settings(language="en")
    with pytest.raises(SettingsInvalid, match="RISKMAP_H3_RESOLUTION='99'"):
        Settings.from_env()


def test_settings_are_frozen_and_compare_by_value():
    s = Settings()
    with pytest.raises(pydantic.ValidationError):
        s.lang = "en"
    assert s == Settings() and s != Settings(lang="en")
    assert s.model_copy(update={"reach_minutes": 10.0}).reach_minutes == 10.0
    assert s.intervals is not Settings().intervals  # each object has its own copy of a map default


def test_documented_says_what_each_setting_allows():
    rows = {var: (default, help_) for var, default, help_ in Settings.documented()}
    assert rows["RISKMAP_H3_RESOLUTION"][0] == 8
    assert rows["RISKMAP_H3_RESOLUTION"][1].endswith("allowed: a whole number from 6 to 10")
    assert "allowed: one of zh, en" in rows["RISKMAP_LANG"][1]
    assert rows["RISKMAP_AUTH"][0] is True
