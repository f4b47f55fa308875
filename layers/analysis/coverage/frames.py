"""The store's layers the coverage pass reads, and only the columns it uses."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

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


#: the biggest layers first, so the small ones fill in while a big one is typed
_LARGEST_FIRST = ("inspections", "enterprises", "responsibilities", "hazards", "venues")
#: layers read at once: the store's own readers (GDAL's reader processes, the database's backends) do the
#: reading while this process types the layer read before; more threads only queue behind them
READ_THREADS = 3


def read_frames(store: Store) -> dict[str, pd.DataFrame]:
    """Every layer the coverage computation reads, from ``store`` (with geometry for spatial layers), several
    at once (``READ_THREADS``); in ``READ_COLUMNS`` order."""
    def read(name: str) -> pd.DataFrame:
        cols = READ_COLUMNS[name]
        spatial = LAYERS[name].spatial and name not in ("hazards", "accidents")
        return store.read(name, columns=[*cols, "geometry"] if spatial else cols)

    order = [*_LARGEST_FIRST, *(n for n in READ_COLUMNS if n not in _LARGEST_FIRST)]
    with ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="coverage-read") as pool:
        futures = {name: pool.submit(read, name) for name in order}
        return {name: futures[name].result() for name in READ_COLUMNS}
