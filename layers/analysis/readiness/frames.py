"""The store's layers the readiness pass reads, and only the columns it uses."""

from __future__ import annotations

import pandas as pd

from layers.schema import LAYERS
from layers.store import Store

READ_COLUMNS: dict[str, list[str]] = {
    "enterprises": ["id", "name", "grade", "industry", "status", "district_code", "town_code"],
    "venues": ["id", "name", "kind", "district_code", "town_code"],
    "tunnels": ["id", "name", "district_code", "town_code"],
    "flood_points": ["id", "name", "kind", "severity", "district_code"],
    "resources": ["id", "name", "kind", "capacity", "status", "district_code"],
    "emergency_plans": ["id", "target_layer", "target_id", "title", "plan_version", "filed_date", "district_code"],
    "drills": ["id", "target_layer", "target_id", "date", "kind"],
    "districts": ["code", "name", "name_en"],
    "towns": ["code", "name", "name_en", "district_code"],
    "roads": ["name", "road_class", "speed_kmh", "oneway"],
}


def read_frames(store: Store) -> dict[str, pd.DataFrame]:
    """Every layer the readiness computation reads, from ``store`` (with geometry for spatial layers)."""
    return {name: store.read(name, columns=[*cols, "geometry"] if LAYERS[name].spatial else cols)
            for name, cols in READ_COLUMNS.items()}


def frame(frames: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """``frames[name]``, or an empty frame with the columns read when the layer is missing."""
    f = frames.get(name)
    if f is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in READ_COLUMNS.get(name, [])})
    return f
