"""One frozen settings object, built from the environment when the app or a command starts.

Every setting has a default, an environment variable ``RISKMAP_<NAME>``, a help text and a type that says what
it allows (pydantic-settings validates it: a choice, a range, a typed map). A value that is not allowed, or a
``RISKMAP_*`` variable that is no setting, stops the start with a message that names the variable, the value
and what is allowed, in Chinese and English (:class:`SettingsInvalid`), never a silent default. Map settings
are JSON objects merged over their defaults. ``tests`` check each setting is documented in the README, whose
table is :func:`markdown_table` (``python -m layers.settings`` prints it). Nothing here is read at import time
of other modules.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from layers.errors import RiskMapError
from layers.schema import (
    CONDITION_CLASSES,
    FLOOD_SEVERITY,
    GRADE_ORDER,
    INCIDENT_KINDS,
    OBJECT_LAYERS,
    READINESS_CLASSES,
    RESOURCE_KINDS,
    VENUE_KINDS,
)

DEFAULT_STORE = Path("data") / "city.gpkg"
PREFIX = "RISKMAP_"
#: ``RISKMAP_*`` variables that are not settings, so not refused: read by ``python -m layers user``, and the
#: PostGIS database the tests use instead of a throw-away cluster (``tests/pg_fixtures.py``)
NOT_SETTINGS = frozenset({"RISKMAP_NEW_PASSWORD", "RISKMAP_TEST_PG"})


class SettingsInvalid(RiskMapError, ValueError):
    """A setting's value is not allowed, or a ``RISKMAP_*`` variable is no setting: the app does not start."""


# --------------------------------------------------------------------------------------------------
# what a setting allows: a type, and the same said in words (for the refusal and the README)
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Allowed:
    """What a value may be, in Chinese and English; for a map also what its keys and values may be."""

    zh: str
    en: str
    key: Allowed | None = None
    value: Allowed | None = None


def _allowed(tp: Any) -> Allowed | None:
    return next((a for a in get_args(tp)[1:] if isinstance(a, Allowed)), None)


def _whole(lo: int, hi: int, zh_unit: str = "", en_unit: str = "") -> Any:
    return Annotated[int, Field(ge=lo, le=hi), Allowed(f"{lo} 到 {hi} 的整数{zh_unit}",
                                                      f"a whole number{en_unit} from {lo} to {hi}")]


def _number(lo: float, hi: float, *, above: bool = False, zh_unit: str = "", en_unit: str = "") -> Any:
    low = Field(gt=lo) if above else Field(ge=lo)
    zh = f"{'大于' if above else '不小于'} {lo:g}、不大于 {hi:g} 的数{zh_unit}"
    en = f"a number{en_unit} {'over' if above else 'from'} {lo:g} {'up to' if above else 'to'} {hi:g}"
    return Annotated[float, low, Field(le=hi, allow_inf_nan=False), Allowed(zh, en)]


def _one_of(*values: str, zh_note: str = "", en_note: str = "") -> Any:
    return Annotated[Literal[values], Allowed(f"{'、'.join(values)} 之一{zh_note}",
                                              f"one of {', '.join(values)}{en_note}")]


def _text(pattern: str, zh: str, en: str) -> Any:
    def check(value: str) -> str:
        if not re.fullmatch(pattern, value):
            raise ValueError(en)
        return value

    return Annotated[str, AfterValidator(check), Allowed(zh, en)]


def _map(key: Any, value: Any) -> Any:
    k, v = _allowed(key), _allowed(value)
    return Annotated[dict[key, value], Allowed(
        f"JSON 对象（并入默认值）；键：{k.zh}；值：{v.zh}",
        f"a JSON object (merged over the default); keys: {k.en}; values: {v.en}", key=k, value=v)]


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_WORDS = "1/0, true/false, yes/no, on/off"


def _flag(value: Any) -> Any:
    if isinstance(value, str):
        word = value.strip().lower()
        if word not in _TRUE | _FALSE:
            raise ValueError(_WORDS)
        return word in _TRUE
    return value


def _tristate(value: Any) -> Any:
    """``auto`` stays; the on/off words (and True/False) become ``"1"``/``"0"``."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str):
        word = value.strip().lower()
        return "1" if word in _TRUE else "0" if word in _FALSE else word
    return value


Flag = Annotated[bool, BeforeValidator(_flag), Allowed(f"{_WORDS.replace(', ', '、')} 之一", f"one of {_WORDS}")]
Grade = _one_of(*GRADE_ORDER)
Days = _whole(1, 3650, "（天）", " of days")
Weight = _number(0, 1000)
_HHMM = r"(?:[01]?\d|2[0-3]):[0-5]\d|24:00"
_HOURS = rf"(?:{_HHMM})-(?:{_HHMM})(?:[,;](?:{_HHMM})-(?:{_HHMM}))*|24h"
_SERVICE_KEY = rf"(?:{'|'.join(OBJECT_LAYERS)})(?:\.(?:{'|'.join(GRADE_ORDER)}))?"

_INTERVALS = {"major": 30, "high": 90, "moderate": 180, "low": 365}
_CONDITION_INTERVALS = {"5": 30, "4": 60, "3": 180, "2": 365, "1": 365}
_GRADE_WEIGHTS = {"major": 10.0, "high": 5.0, "moderate": 2.0, "low": 1.0}
_VENUE_GRADES = {"ktv": "high", "foot_massage": "high", "bar": "high", "mall": "moderate", "cinema": "moderate",
                 "stadium": "moderate", "school": "moderate", "hospital": "moderate", "market": "moderate",
                 "hotel": "low"}
_RISK_INDEX_WEIGHTS = {
    "major_enterprise": 10.0, "high_enterprise": 5.0, "moderate_enterprise": 2.0, "low_enterprise": 1.0,
    "open_major_hazard": 8.0, "open_general_hazard": 1.0, "overdue_hazard": 3.0,
    "bridge_tunnel_class45": 6.0, "venue_per_1000_capacity": 1.0, "gas_high_km": 2.0,
}
_VENUE_HOURS = {"ktv": "19:00-23:59", "foot_massage": "18:00-23:59", "bar": "19:00-23:59", "mall": "10:00-21:00",
                "cinema": "10:00-22:00", "stadium": "09:00-21:00", "school": "08:00-17:00",
                "hospital": "08:00-18:00", "market": "06:00-18:00", "hotel": "00:00-23:59"}
_SERVICE_MINUTES = {"enterprises.major": 120, "enterprises.high": 90, "enterprises.moderate": 60,
                    "enterprises.low": 45, "venues": 45, "gas_stations": 60, "bridges": 60, "tunnels": 60}

#: readiness (layers.analysis.readiness): travel-time target in minutes per "class/resource kind"; 0 = not needed
_READINESS_TARGETS = {
    "major_enterprise/fire_station": 10, "major_enterprise/medical": 15,
    "hazchem/fire_station": 10, "hazchem/hazchem_team": 20, "hazchem/medical": 15,
    "venue/fire_station": 10, "venue/medical": 12,
    "tunnel/fire_station": 12, "tunnel/rescue_team": 20, "tunnel/drainage_pump": 30,
    "flood_point/drainage_pump": 30, "flood_point/sandbags": 30, "flood_point/generator": 45, "flood_point/boat": 45,
}
#: drills a year per readiness class; a class with drills needs a plan on file (0 = neither asked)
_DRILLS_PER_YEAR = {"major_enterprise": 2, "hazchem": 2, "high_enterprise": 1, "venue": 1, "tunnel": 1,
                    "flood_point": 0}
#: supplies a flood point needs within reach, per "severity/resource kind" (counts of pumps, sandbags, ...)
_FLOOD_SUPPLIES = {
    "severe/drainage_pump": 2, "severe/sandbags": 500, "severe/generator": 1, "severe/boat": 1,
    "moderate/drainage_pump": 1, "moderate/sandbags": 200, "moderate/generator": 1,
    "minor/sandbags": 100,
}
#: resource kinds an incident of each kind calls for, in the order they are listed
_INCIDENT_NEEDS = {
    "fire": "fire_station,medical,rescue_team",
    "explosion": "fire_station,rescue_team,hazchem_team,medical",
    "hazchem_leak": "hazchem_team,fire_station,medical",
    "gas_leak": "fire_station,rescue_team,medical",
    "collapse": "rescue_team,fire_station,medical",
    "flooding": "drainage_pump,boat,sandbags,generator,rescue_team",
    "crowd_crush": "medical,rescue_team,fire_station",
}
_READINESS_KEY = rf"(?:{'|'.join(READINESS_CLASSES)})/(?:{'|'.join(RESOURCE_KINDS)})"
_SUPPLY_KEY = rf"(?:{'|'.join(FLOOD_SEVERITY)})/(?:{'|'.join(RESOURCE_KINDS)})"
_KIND_LIST = rf"(?:{'|'.join(RESOURCE_KINDS)})(?:,(?:{'|'.join(RESOURCE_KINDS)}))*"
_MMDD = r"(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"


BASEMAP_PRESETS = ("builtin", "style_url", "xyz", "wmts", "tianditu", "amap")
_BD09_WORDS = frozenset({"bd09", "bd-09", "baidu", "bmap"})
_BD09_HOSTS = ("map.baidu.com", "bdimg.com", "bdstatic.com", "api.map.baidu")


def _no_bd09(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in _BD09_WORDS:
        raise ValueError("Baidu BD-09 tiles cannot be drawn on: their offset is neither WGS-84 nor GCJ-02; use "
                         "WGS-84, CGCS2000 (Tianditu) or GCJ-02 (amap) tiles")
    return value


def _default(value: Any, help_: str) -> Any:
    """A field with its help text; a map default is copied for each object."""
    if isinstance(value, dict):
        return Field(default_factory=lambda: dict(value), description=help_)
    return Field(default=value, description=help_)


# --------------------------------------------------------------------------------------------------
# the settings
# --------------------------------------------------------------------------------------------------

#: the environment :meth:`Settings.from_env` reads while it builds one object (None: keywords and defaults only)
_ENV: ContextVar[Mapping[str, str] | None] = ContextVar("riskmap_settings_env", default=None)


class Settings(BaseSettings):
    """Every setting of the app and the commands; see the README's table (:func:`markdown_table`)."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid", validate_default=True)

    store: Annotated[str, Field(min_length=1)] = _default(
        str(DEFAULT_STORE), "the store: a GeoPackage path, or a postgresql:// URL of a PostGIS database (README: PostGIS store)")
    host: _text(r"[^\s/]+", "主机名或 IP 地址", "a host name or IP address") = _default(
        "127.0.0.1", "address the app listens on")
    port: _whole(1, 65535) = _default(8050, "port the app listens on (also PORT)")
    lang: _one_of("zh", "en") = _default("zh", "default language")
    tile_url: _text(r"|(?:https?://|/)[^\s]*", "空，或含 {z} {x} {y} 的 http(s):// 或 / 开头的地址",
                    "empty, or an http(s):// or /… URL with {z}, {x} and {y}") = _default(
        "", "optional XYZ tile URL template ({z}/{x}/{y}) of an intranet tile server; empty = offline basemap")
    tile_crs: _one_of("wgs84", "gcj02", zh_note="（百度 BD-09 瓦片不支持）",
                      en_note=" (Baidu BD-09 tiles are not supported)") = _default(
        "wgs84", "CRS of the tiles (gcj02: drawn shifted)")
    basemap: Annotated[_one_of(*BASEMAP_PRESETS, zh_note="（百度 BD-09 瓦片不支持）",
                               en_note=" (Baidu BD-09 tiles are not supported)"), BeforeValidator(_no_bd09)] = _default(
        "builtin", "basemap preset: builtin (vector tiles the app builds from the store and serves itself, offline), "
                   "style_url (a MapLibre vector style), xyz (raster tiles), wmts (WMTS raster tiles), tianditu "
                   "(天地图 vec_w/img_w + annotations, Web Mercator), amap (高德, GCJ-02: what is drawn is shifted); "
                   "RISKMAP_TILE_URL alone still means xyz")
    basemap_url: _text(r"|(?:https?://|/)[^\s]*", "空，或 http(s):// 或 / 开头的地址", "empty, or an http(s):// or /… URL"
                       ) = _default(
        "", "URL of the basemap preset: the style JSON (style_url); the tile template with {z} {x} {y} (xyz, amap; "
            "wmts also {TileMatrix} {TileRow} {TileCol}; {s} = subdomains); the Tianditu server (tianditu; empty = "
            "the public t0–t7.tianditu.gov.cn; amap: empty = the public Amap tiles)")
    tianditu_token: _text(r"[A-Za-z0-9]*", "空，或天地图密钥（字母和数字）", "empty, or a Tianditu key (letters and digits)"
                          ) = _default("", "Tianditu key (tk) for RISKMAP_BASEMAP=tianditu")
    tianditu_layer: _one_of("vec", "img") = _default(
        "vec", "Tianditu layer: vec (map: vec_w + cva_w labels) or img (imagery: img_w + cia_w labels)")
    secret_key: str = _default("", "session cookie secret; empty = a key generated once into a file beside the "
                                   "store (mode 0600; for a database URL in data/ under the working directory), "
                                   "shared by every worker reading that file")
    workers: _whole(1, 64) = _default(1, "app worker processes of python -m dashboard (also --workers); above 1 they "
                                         "need RISKMAP_SECRET_KEY or a key file they can share")
    worker_header: Flag = _default(False, "add X-RiskMap-Worker: <process id> to every response (to see which worker "
                                          "answered, in tests and load checks)")
    auth: Flag = _default(True, "require login (per-district access); 0 = a read-only city-wide kiosk without login")
    secure_cookies: Annotated[_one_of("auto", "1", "0", zh_note="（或 true/false 等开关词）",
                                      en_note=" (or an on/off word)"), BeforeValidator(_tristate)] = _default(
        "auto", "Secure session cookie: auto (when the request came over TLS), 1 (always) or 0 (never)")
    behind_proxy: Flag = _default(False, "trust X-Forwarded-Proto/-For/-Host from one reverse proxy (for TLS "
                                         "detection and client addresses)")
    wall_frame_origin: _text(r"|https?://[A-Za-z0-9.-]+(?::\d{1,5})?", "空，或 http(s)://主机[:端口]（不含路径）",
                             "empty, or http(s)://host[:port] (no path)") = _default(
        "", "an origin allowed to frame /wall (e.g. https://screen.example.gov.cn); empty = no framing")
    sso_header: _text(r"|[A-Za-z][A-Za-z0-9-]{0,63}", "空，或一个 HTTP 头名称", "empty, or an HTTP header name") = \
        _default("", "single sign-on: the header in which a trusted reverse proxy names the logged-in user (e.g. "
                     "X-Remote-User); needs RISKMAP_BEHIND_PROXY=1; empty = off")
    demo_enterprises: _whole(1, 1_000_000) = _default(5000, "enterprises in the generated demo city")
    demo_seed: _whole(0, 2**32 - 1) = _default(7, "seed of the generated demo city")
    #: inspection interval in days per grade (dead corners)
    intervals: _map(Grade, Days) = _default(_INTERVALS, "days between inspections per grade")
    #: interval in days per condition class for bridges, tunnels and gas stations
    condition_intervals: _map(_one_of(*sorted(CONDITION_CLASSES)), Days) = _default(
        _CONDITION_INTERVALS, "days between inspections per condition class")
    #: risk weight per grade
    grade_weights: _map(Grade, Weight) = _default(_GRADE_WEIGHTS, "risk weight per grade")
    #: grade a venue is inspected and weighted as, by kind (coverage: dead corners and blind spots)
    venue_grades: _map(_one_of(*VENUE_KINDS), Grade) = _default(
        _VENUE_GRADES, "risk grade a crowded venue is treated as, by kind (sets its inspection interval and risk "
                       "weight)")
    venue_crowd_capacity: _whole(1, 1_000_000) = _default(
        1000, "a venue holding at least this many people is treated as one grade higher")
    h3_resolution: _whole(6, 10) = _default(
        8, "H3 resolution of the blind-spot grid (6: cells of 36 km², 8: 0.74 km², 10: 0.015 km²)")
    coverage_window_days: Days = _default(365, "window in which an inspection covers a cell")
    reach_minutes: _number(0, 240, above=True, zh_unit="（分钟）", en_unit=" of minutes") = _default(
        30.0, "a cell is in reach within this travel time")
    detour_factor: _number(1, 5) = _default(1.3, "straight line x this = road distance")
    travel_speed_kmh: _number(0, 200, above=True, zh_unit="（km/h）", en_unit=" of km/h") = _default(
        30.0, "speed when no road layer is used")
    access_speed_kmh: _number(0, 60, above=True, zh_unit="（km/h）", en_unit=" of km/h") = _default(
        15.0, "reach over roads: speed of the off-road leg between a point (a base, a cell centre) and the nearest road")
    risk_index_weights: _map(_one_of(*_RISK_INDEX_WEIGHTS), Weight) = _default(
        _RISK_INDEX_WEIGHTS, "weights of the district/town risk index")
    wall_refresh_s: _whole(1, 86400, "（秒）", " of seconds") = _default(30, "wall refresh interval")
    wall_tour_s: _whole(0, 86400, "（秒）", " of seconds") = _default(0, "wall district tour interval (0 = off)")
    venue_hours: _map(_one_of(*VENUE_KINDS), _text(_HOURS, "形如 19:00-23:59 的时段（可用 , 分隔多段）或 24h",
                                                   "hours like 19:00-23:59 (several joined by ,) or 24h")) = _default(
        _VENUE_HOURS, "default opening hours per venue kind, for inspection time windows")
    service_minutes: _map(_text(_SERVICE_KEY, f"图层名（{'、'.join(OBJECT_LAYERS)}），可加 .等级",
                                f"a layer ({', '.join(OBJECT_LAYERS)}), optionally .grade"),
                          _whole(1, 1440, "（分钟）", " of minutes")) = _default(
        _SERVICE_MINUTES, "minutes on site per inspection, by object layer and grade ('layer.grade', else 'layer')")
    repeat_hazard_count: _whole(2, 100) = _default(
        3, "repeat offender: the same hazard type found this many times at one enterprise within the window")
    repeat_accident_count: _whole(2, 100) = _default(
        2, "repeat offender: the same kind of accident this many times at one enterprise within the window")
    repeat_window_days: _whole(1, 3650, "（天）", " of days") = _default(
        365, "window (days, up to the as-of date) in which repeated hazards or accidents count")
    repeat_interval_factor: _number(0, 1, above=True) = _default(
        0.5, "a repeat offender's inspection interval is its grade's interval times this")
    upload_max_mb: _number(0, 100, above=True, zh_unit="（MB）", en_unit=" of MB") = _default(
        10.0, "largest photo or document that may be attached to a hazard")
    readiness_targets: _map(_text(_READINESS_KEY, "对象类别/资源类型（如 hazchem/hazchem_team）",
                                  "an object class and a resource kind (e.g. hazchem/hazchem_team)"),
                            _number(0, 240, zh_unit="（分钟，0 = 不需要）", en_unit=" of minutes (0 = not needed)")
                            ) = _default(
        _READINESS_TARGETS, "readiness: road travel-time target in minutes from the nearest ready resource of a kind "
                            "to each object of a class ('class/kind'); beyond it is a readiness gap")
    drills_per_year: _map(_one_of(*READINESS_CLASSES), _whole(0, 52)) = _default(
        _DRILLS_PER_YEAR, "readiness: drills a year each object of a class must hold; above 0 it also needs a "
                          "contingency plan on file")
    flood_supplies: _map(_text(_SUPPLY_KEY, "内涝风险程度/资源类型（如 severe/drainage_pump）",
                               "a flood severity and a resource kind (e.g. severe/drainage_pump)"),
                         _whole(0, 1_000_000)) = _default(
        _FLOOD_SUPPLIES, "readiness: count of each supply a flood point of a severity needs within its reach target "
                         "('severity/kind')")
    flood_season: _text(rf"{_MMDD}\.\.{_MMDD}", "形如 06-01..09-30 的月-日区间",
                        "a month-day range like 06-01..09-30") = _default(
        "06-01..09-30", "flood season (汛期), month-day to month-day; the wall puts the flood layers forward in it")
    flood_mode: Annotated[_one_of("auto", "1", "0", zh_note="（或 true/false 等开关词）",
                                  en_note=" (or an on/off word)"), BeforeValidator(_tristate)] = _default(
        "auto", "flood-season mode: auto (on within RISKMAP_FLOOD_SEASON), 1 (always on) or 0 (off)")
    incident_radius_m: _number(0, 20_000, above=True, zh_unit="（米）", en_unit=" of metres") = _default(
        1000.0, "incident: hazchem enterprises and gas pipelines within this distance are shown")
    incident_warn_radius_m: _number(0, 20_000, above=True, zh_unit="（米）", en_unit=" of metres") = _default(
        500.0, "incident: crowded venues and schools within this distance are listed to warn or evacuate")
    incident_needs: _map(_one_of(*INCIDENT_KINDS), _text(_KIND_LIST, "资源类型列表，用 , 分隔",
                                                        "resource kinds joined by ,")) = _default(
        _INCIDENT_NEEDS, "incident: resource kinds each kind of incident calls for, nearest first per kind")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsInvalid(_refusal(exc, _ENV.get() or {})) from None
        problems = _basemap_problems(self)
        if problems:
            raise SettingsInvalid("\n".join(problems))

    @field_validator("tile_url")
    @classmethod
    def _tile_template(cls, value: str) -> str:
        missing = [p for p in ("{z}", "{x}", "{y}") if value and p not in value]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _map_over_default(cls, value: Any, info: ValidationInfo) -> Any:
        """A map setting: JSON text is decoded, and the keys given replace the default's, the rest stay."""
        default = cls.model_fields[info.field_name].get_default(call_default_factory=True)
        if not isinstance(default, dict):
            return value
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"not JSON: {exc}") from None
        return {**default, **value} if isinstance(value, Mapping) else value

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keywords first; the environment only inside :meth:`from_env` (so ``Settings()`` is the defaults)."""
        env = _ENV.get()
        return (init_settings,) if env is None else (init_settings, _Environment(settings_cls, env))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``RISKMAP_*`` variables (and ``PORT``); keyword overrides that are not None win.

        Raises :class:`SettingsInvalid` for a value that is not allowed or a ``RISKMAP_*`` variable that is no
        setting."""
        env = dict(os.environ if env is None else env)
        overrides = {k: v for k, v in overrides.items() if v is not None}
        for name in overrides:  # an override wins: its variable is neither read nor checked
            env.pop(variable(name), None)
            if name == "port":
                env.pop("PORT", None)
        known = {variable(name) for name in cls.model_fields} | NOT_SETTINGS
        unknown = sorted(k for k in env if k.startswith(PREFIX) and k not in known)
        if unknown:
            raise SettingsInvalid("\n".join(_unknown(k) for k in unknown))
        with _reading(env):
            return cls(**overrides)

    @classmethod
    def documented(cls) -> list[tuple[str, Any, str]]:
        """(environment variable, default, help and what is allowed) for every setting."""
        defaults = cls()
        out = []
        for name, f in cls.model_fields.items():
            allowed = _field_allowed(f)
            help_ = f.description or ""
            out.append((variable(name), getattr(defaults, name),
                        f"{help_}; allowed: {allowed.en}" if allowed else help_))
        return out


def _basemap_problems(s: Settings) -> list[str]:
    """What is wrong with the basemap preset taken with its URL and key (each line in Chinese and English)."""
    out: list[str] = []
    url, preset = s.basemap_url, s.basemap

    def bad(var: str, zh: str, en: str) -> None:
        out.append(f"设置 {var} 无效：{zh} ({var} is not valid: {en})")

    if preset != "builtin" and s.tile_url:
        bad(variable("tile_url"), f"RISKMAP_BASEMAP={preset} 时请用 RISKMAP_BASEMAP_URL，不要同时设置 RISKMAP_TILE_URL",
            f"with RISKMAP_BASEMAP={preset} give the URL in RISKMAP_BASEMAP_URL, not RISKMAP_TILE_URL as well")
    if preset == "builtin" and url:
        bad(variable("basemap_url"), "内置底图不需要地址；请同时设置 RISKMAP_BASEMAP（style_url、xyz、wmts、tianditu 或 amap）",
            "the built-in basemap takes no URL; set RISKMAP_BASEMAP too (style_url, xyz, wmts, tianditu or amap)")
    if preset in ("style_url", "xyz", "wmts") and not url:
        bad(variable("basemap_url"), f"RISKMAP_BASEMAP={preset} 需要地址", f"RISKMAP_BASEMAP={preset} needs a URL")
    if url and preset in ("xyz", "amap", "wmts"):
        wmts = all(p in url for p in ("{TileMatrix}", "{TileRow}", "{TileCol}")) and preset == "wmts"
        missing = [p for p in ("{z}", "{x}", "{y}") if p not in url]
        if missing and not wmts:
            extra = "（或 {TileMatrix} {TileRow} {TileCol}）" if preset == "wmts" else ""
            extra_en = " (or {TileMatrix} {TileRow} {TileCol})" if preset == "wmts" else ""
            bad(variable("basemap_url"), f"瓦片地址缺少 {'、'.join(missing)}{extra}",
                f"the tile template lacks {', '.join(missing)}{extra_en}")
    if preset == "tianditu" and not s.tianditu_token:
        bad(variable("tianditu_token"), "天地图需要密钥 (tk)", "Tianditu needs its key (tk)")
    if any(h in (url or s.tile_url) for h in _BD09_HOSTS):
        bad(variable("basemap_url" if url else "tile_url"), "百度瓦片（BD-09）不支持：其偏移既非 WGS-84 也非 GCJ-02",
            "Baidu tiles (BD-09) are not supported: their offset is neither WGS-84 nor GCJ-02")
    return out


def variable(name: str) -> str:
    """The environment variable of setting ``name``."""
    return f"{PREFIX}{name.upper()}"


class _Environment(PydanticBaseSettingsSource):
    """``RISKMAP_<NAME>`` (and ``PORT`` for the port) from a mapping, as text: the fields' types parse it."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]):
        super().__init__(settings_cls)
        self.env = env

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        for var in (variable(field_name), "PORT") if field_name == "port" else (variable(field_name),):
            if var in self.env:
                return self.env[var], var, False
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values = {name: self.get_field_value(f, name)[0] for name, f in self.settings_cls.model_fields.items()}
        return {name: value for name, value in values.items() if value is not None}


@contextmanager
def _reading(env: Mapping[str, str]) -> Iterator[None]:
    token = _ENV.set(env)
    try:
        yield
    finally:
        _ENV.reset(token)


# --------------------------------------------------------------------------------------------------
# the refusal: variable, value, what is allowed, in both languages
# --------------------------------------------------------------------------------------------------

def _field_allowed(f: FieldInfo) -> Allowed | None:
    return next((a for a in f.metadata if isinstance(a, Allowed)), None) or _allowed(f.annotation)


def _unknown(var: str) -> str:
    near = difflib.get_close_matches(var, [variable(n) for n in Settings.model_fields], n=1, cutoff=0.75)
    zh_hint = f"，是否想写 {near[0]}？" if near else ""
    en_hint = f"; did you mean {near[0]}?" if near else ""
    return f"没有设置 {var}{zh_hint} (there is no setting {var}{en_hint})"


def _refusal(exc: ValidationError, env: Mapping[str, str]) -> str:
    lines = []
    for err in exc.errors():
        name, *inner = (str(p) for p in err["loc"])
        var = "PORT" if name == "port" and "PORT" in env and variable("port") not in env else variable(name)
        f = Settings.model_fields.get(name)
        if f is None:
            lines.append(_unknown(var))
            continue
        allowed = _field_allowed(f)
        zh_where = en_where = ""
        if inner:  # a key or a value inside a map
            given, key, bad = env.get(var), inner[0], err["input"]
            if inner[-1] == "[key]":
                zh_where, en_where = f"：键 {key!r} 不允许", f": key {key!r} is not allowed"
                allowed = allowed.key if allowed else None
            else:
                zh_where, en_where = f"：键 {key!r} 的值 {bad!r} 不允许", f": key {key!r} has {bad!r}"
                allowed = allowed.value if allowed else None
        else:
            given = env.get(var, err["input"])
        zh_given, en_given = ("", "") if given is None else (f" 的值 {given!r}", f"={given!r}")
        zh_allowed, en_allowed = (allowed.zh, allowed.en) if allowed else (err["msg"], err["msg"])
        detail = err["msg"].removeprefix("Value error, ")
        detail = "" if detail in en_allowed else f"; {detail}"
        lines.append(f"设置 {var}{zh_given} 无效{zh_where}，允许：{zh_allowed} "
                     f"({var}{en_given} is not valid{en_where}; allowed: {en_allowed}{detail})")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# the README's table
# --------------------------------------------------------------------------------------------------

def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value) if value != "" else "(empty)"


def markdown_table() -> str:
    """The README's settings table (between ``<!-- SETTINGS -->`` and ``<!-- /SETTINGS -->``)."""
    rows = ["| Variable | Default | What it does |", "|---|---|---|"]
    rows += [f"| `{var}` | `{_shown(default)}` | {help_} |" for var, default, help_ in Settings.documented()]
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
