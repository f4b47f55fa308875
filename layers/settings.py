"""One frozen settings object, built from the environment when the app or a command starts.

Every setting has a default, an environment variable ``RISKMAP_<NAME>`` and a help text; ``tests`` check
each is documented in the README. Nothing here is read at import time of other modules.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

DEFAULT_STORE = Path("data") / "city.gpkg"


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _json(value: str) -> Any:
    return json.loads(value)


@dataclass(frozen=True)
class Settings:
    store: str = field(default=str(DEFAULT_STORE), metadata={"help": "GeoPackage path of the store"})
    host: str = field(default="127.0.0.1", metadata={"help": "address the app listens on"})
    port: int = field(default=8050, metadata={"help": "port the app listens on (also PORT)"})
    lang: str = field(default="zh", metadata={"help": "default language: zh or en"})
    tile_url: str = field(default="", metadata={
        "help": "optional XYZ tile URL template ({z}/{x}/{y}) of an intranet tile server; empty = offline basemap"})
    tile_crs: str = field(default="wgs84", metadata={"help": "CRS of the tiles: wgs84 or gcj02 (draw shifted)"})
    secret_key: str = field(default="", metadata={
        "help": "session cookie secret; empty = a key generated once into a file beside the store (mode 0600), "
                "shared by every worker on that store"})
    auth: bool = field(default=True, metadata={
        "help": "require login (per-district access); 0 = a read-only city-wide kiosk without login"})
    secure_cookies: str = field(default="auto", metadata={
        "help": "Secure session cookie: auto (when the request came over TLS), 1 (always) or 0 (never)"})
    behind_proxy: bool = field(default=False, metadata={
        "help": "trust X-Forwarded-Proto/-For/-Host from one reverse proxy (for TLS detection and client addresses)"})
    wall_frame_origin: str = field(default="", metadata={
        "help": "an origin allowed to frame /wall (e.g. https://screen.example.gov.cn); empty = no framing"})
    demo_enterprises: int = field(default=5000, metadata={"help": "enterprises in the generated demo city"})
    demo_seed: int = field(default=7, metadata={"help": "seed of the generated demo city"})
    #: inspection interval in days per grade (dead corners)
    intervals: dict = field(default_factory=lambda: {"major": 30, "high": 90, "moderate": 180, "low": 365}, metadata={
        "help": "JSON: days between inspections per grade"})
    #: interval in days per condition class for bridges, tunnels and gas stations
    condition_intervals: dict = field(default_factory=lambda: {"5": 30, "4": 60, "3": 180, "2": 365, "1": 365},
                                      metadata={"help": "JSON: days between inspections per condition class"})
    #: risk weight per grade
    grade_weights: dict = field(default_factory=lambda: {"major": 10.0, "high": 5.0, "moderate": 2.0, "low": 1.0},
                                metadata={"help": "JSON: risk weight per grade"})
    #: grade a venue is inspected and weighted as, by kind (coverage: dead corners and blind spots)
    venue_grades: dict = field(default_factory=lambda: {
        "ktv": "high", "foot_massage": "high", "bar": "high", "mall": "moderate", "cinema": "moderate",
        "stadium": "moderate", "school": "moderate", "hospital": "moderate", "market": "moderate", "hotel": "low"},
        metadata={"help": "JSON: risk grade a crowded venue is treated as, by kind (sets its inspection interval "
                          "and risk weight)"})
    venue_crowd_capacity: int = field(default=1000, metadata={
        "help": "a venue holding at least this many people is treated as one grade higher"})
    h3_resolution: int = field(default=8, metadata={"help": "H3 resolution of the blind-spot grid"})
    coverage_window_days: int = field(default=365, metadata={"help": "window in which an inspection covers a cell"})
    reach_minutes: float = field(default=30.0, metadata={"help": "a cell is in reach within this travel time"})
    detour_factor: float = field(default=1.3, metadata={"help": "straight line x this = road distance"})
    travel_speed_kmh: float = field(default=30.0, metadata={"help": "speed when no road layer is used"})
    risk_index_weights: dict = field(default_factory=lambda: {
        "major_enterprise": 10.0, "high_enterprise": 5.0, "moderate_enterprise": 2.0, "low_enterprise": 1.0,
        "open_major_hazard": 8.0, "open_general_hazard": 1.0, "overdue_hazard": 3.0,
        "bridge_tunnel_class45": 6.0, "venue_per_1000_capacity": 1.0, "gas_high_km": 2.0,
    }, metadata={"help": "JSON: weights of the district/town risk index"})
    wall_refresh_s: int = field(default=30, metadata={"help": "wall refresh interval in seconds"})
    wall_tour_s: int = field(default=0, metadata={"help": "wall district tour interval in seconds (0 = off)"})
    venue_hours: dict = field(default_factory=lambda: {
        "ktv": "19:00-23:59", "foot_massage": "18:00-23:59", "bar": "19:00-23:59", "mall": "10:00-21:00",
        "cinema": "10:00-22:00", "stadium": "09:00-21:00", "school": "08:00-17:00", "hospital": "08:00-18:00",
        "market": "06:00-18:00", "hotel": "00:00-23:59"}, metadata={
        "help": "JSON: default opening hours per venue kind, for inspection time windows"})
    service_minutes: dict = field(default_factory=lambda: {
        "enterprises.major": 120, "enterprises.high": 90, "enterprises.moderate": 60, "enterprises.low": 45,
        "venues": 45, "gas_stations": 60, "bridges": 60, "tunnels": 60}, metadata={
        "help": "JSON: minutes on site per inspection, by object layer and grade ('layer.grade', else 'layer')"})

    def __post_init__(self) -> None:
        if self.secure_cookies not in ("auto", "1", "0"):
            raise ValueError(f"RISKMAP_SECURE_COOKIES={self.secure_cookies!r} is not valid: allowed auto, 1, 0 "
                             f"(安全 Cookie 设置无效)")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``RISKMAP_*`` variables (and ``PORT``); keyword overrides win."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"RISKMAP_{f.name.upper()}")
            if f.name == "port" and raw is None:
                raw = env.get("PORT")
            if raw is None:
                continue
            default = getattr(cls(), f.name)
            try:
                if isinstance(default, bool):
                    word = raw.strip().lower()
                    if word not in _TRUE | _FALSE:
                        raise ValueError(f"allowed: {sorted(_TRUE)} or {sorted(_FALSE)}")
                    values[f.name] = word in _TRUE
                elif isinstance(default, int):
                    values[f.name] = int(raw)
                elif isinstance(default, float):
                    values[f.name] = float(raw)
                elif isinstance(default, dict):
                    values[f.name] = {**default, **_json(raw)}
                else:
                    values[f.name] = raw
            except (ValueError, json.JSONDecodeError) as exc:
                raise ValueError(
                    f"环境变量 RISKMAP_{f.name.upper()} 的值 {raw!r} 无效 "
                    f"(RISKMAP_{f.name.upper()}={raw!r} is not valid: {exc})") from exc
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @classmethod
    def documented(cls) -> list[tuple[str, Any, str]]:
        """(environment variable, default, help) for every setting."""
        return [(f"RISKMAP_{f.name.upper()}", getattr(cls(), f.name), f.metadata.get("help", ""))
                for f in fields(cls)]
