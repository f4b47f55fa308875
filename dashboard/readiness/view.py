"""The readiness analysis as the session's user may see it, and the suggested places inside that area.

What a user may see is decided on the server: the districts asked for go to the one access function
(``context.authorize``), whose answer (:class:`layers.access.Access`, the user's districts and town) narrows every
frame of the cached city-wide result (``ReadinessResult.for_access``). Asking for another district raises
``AccessDenied`` before anything is read.
"""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd

from dashboard import context
from dashboard.i18n import t
from layers.analysis import readiness
from layers.errors import RiskMapError
from layers.schema import RESOURCE_KINDS

K_MAX = 20


def data_as_of() -> date:
    """The data's as-of date (the latest inspection, the date the map, the wall and /coverage count from);
    today when there is none."""
    stamp = context.store().latest("inspections", "date")
    return pd.Timestamp(stamp).date() if stamp is not None else date.today()


def parse_date(text: str | None) -> date:
    """The as-of date picked (ISO text), the data's date when none."""
    if not text:
        return data_as_of()
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        raise RiskMapError(f"日期 {text!r} 无效 (date {text!r} is not valid)") from None


def result_for_user(as_of: str | None, districts: list[str] | None) -> readiness.ReadinessResult:
    """The cached city-wide result narrowed on the server to the districts asked for, within the user's area."""
    access = context.authorize(context.action(), districts=districts or None)
    result = readiness.compute_cached(context.store(), as_of=parse_date(as_of), settings=context.settings())
    return result.for_access(access)


def clamp_k(k: object) -> int:
    """``k`` as an int in 1..K_MAX (1 when not a number)."""
    try:
        n = int(float(k))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1
    return max(1, min(n, K_MAX))


def suggest(result: readiness.ReadinessResult, kind: str | None, k: object, method: str | None, *,
            districts: set[str] | None, towns: set[str] | None, lang: str) -> tuple[gpd.GeoDataFrame, str | None]:
    """Up to ``k`` places for more resources of ``kind`` inside the area (``districts``/``towns``, None = the
    city), and why fewer than asked (None when as many).

    ``result`` is the narrowed one, so the gaps the places close are the area's. A place the siting puts just
    across the border is left out (and the note says so); the gaps each shown place closes are those it closes
    beyond the shown places before it.
    """
    if kind not in RESOURCE_KINDS:
        raise RiskMapError(f"未知资源类型 {kind!r} (unknown kind of resource {kind!r})")
    k = clamp_k(k)
    method = "exact" if method == "exact" else "greedy"
    found = readiness.suggest_resources(result, kind, k, method=method)
    inside = np.ones(len(found), bool)
    if len(found) and districts is not None:
        inside &= found["district_code"].isin(districts).to_numpy()
    if len(found) and towns is not None:
        inside &= found["town_code"].isin(towns).to_numpy()
    shown = found[inside].copy()
    gaps = result.reach_gaps
    n_gaps = int((gaps["kind"] == kind).sum()) if len(gaps) else 0
    if len(shown):
        shown["rank"] = np.arange(1, len(shown) + 1)
        shown["cumulative_closed"] = np.cumsum(shown["gaps_closed"].to_numpy(dtype=np.int64))
        shown["share_of_gaps"] = shown["cumulative_closed"] / n_gaps if n_gaps else np.nan
    if len(shown) >= k:
        return shown, None
    kz = RESOURCE_KINDS[kind]["zh"] if lang != "en" else RESOURCE_KINDS[kind]["en"].lower()
    why = []
    if (~inside).any():
        why.append(t("rd.fewer.outside", lang).format(m=int((~inside).sum())))
    if n_gaps == 0:
        why.append(t("rd.fewer.none", lang).format(kind=kz))
    elif len(found) < k:
        done = len(found) and float(found["share_of_gaps"].iloc[-1]) >= 1.0
        why.append(t("rd.fewer.all", lang).format(kind=kz) if done else t("rd.fewer.stuck", lang))
    sep = "；" if lang != "en" else "; "
    return shown, t("rd.fewer", lang).format(k=k, kind=kz, n=len(shown), why=sep.join(why))

__all__ = ["data_as_of", "parse_date", "result_for_user", "suggest", "clamp_k", "K_MAX"]
