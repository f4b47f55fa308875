"""The store's layers the coverage pass reads, and only the columns it uses."""

from __future__ import annotations

import pandas as pd

from layers.schema import LAYERS
from layers.store import Store

READ_COLUMNS: dict[str, list[str] | None] = {
    "enterprises": ["id", "name", "grade", "status", "district_code", "town_code"],
    "venues": ["id", "name", "kind", "capacity", "district_code", "town_code"],
    "gas_stations": ["id", "name", "pressure", "condition_class", "district_code", "town_code"],
    "bridges": ["id", "name", "condition_class", "district_code", "town_code"],
    "tunnels": ["id", "name", "condition_class", "district_code", "town_code"],
    "inspections": ["id", "target_layer", "target_id", "date"],
    "hazards": ["target_layer", "target_id", "type", "level", "found_date", "status", "closed_date"],
    "accidents": ["id", "enterprise_id", "date", "kind"],
    "responsibilities": ["target_layer", "target_id", "department_id", "lead", "officer"],
    "departments": ["id", "name", "name_en"],
    "districts": ["code", "name", "name_en"],
    "towns": ["code", "name", "name_en", "district_code"],
    "teams": ["id", "name"],
    "roads": ["road_class", "speed_kmh", "oneway"],
}


def read_frames(store: Store) -> dict[str, pd.DataFrame]:
    """Every layer the coverage computation reads, from ``store`` (with geometry for spatial layers)."""
    out = {}
    for name, cols in READ_COLUMNS.items():
        spatial = LAYERS[name].spatial and name not in ("hazards", "accidents")
        out[name] = store.read(name, columns=[*cols, "geometry"] if spatial else cols)
    return out
