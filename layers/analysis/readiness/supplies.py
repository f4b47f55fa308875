"""Flood supplies (防汛物资): per flood point, the supplies of ready resources within reach against what its
severity needs (``Settings.flood_supplies["severity/kind"]``, a count: pumps, sandbags, boats, generators); per
district, the need summed over its flood points against the stock of the ready resources located in it.

Within reach: the resource is within the flood point's reach target for the kind
(``Settings.readiness_targets["flood_point/kind"]`` minutes, inclusive); a kind with no target there (0) counts
the whole city's ready stock. What a resource holds is its ``capacity`` (missing: 1).

How: a resource's supply counts for *every* flood point within the target, so the sum per point is over the
sparse set of (resource, point) pairs within the target. ``Travel.pairs`` finds them with one bounded Dijkstra
(``limit=`` the target) per resource, or per flood point over the reversed graph when the points are fewer than
the resources (``geo.roadgraph.times_within``, chunked): each search stops at the target instead of covering the
graph, and no (resource x point) matrix of all pairs is built. A multi-source search would give only the nearest
resource, not the sum. One more multi-source search per kind names the nearest resource for the reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from layers.analysis.coverage.arrays import obj_frame
from layers.analysis.readiness.reach import Resources, Travel, _minutes, kind_words
from layers.settings import Settings

#: the unit of a supply in a sentence (zh measure word, en noun)
UNITS = {"drainage_pump": ("台", "pumps"), "sandbags": ("袋", "sandbags"), "boat": ("艘", "boats"),
         "generator": ("台", "generators")}
SUPPLY_COLUMNS = ("key", "id", "name", "severity", "district_code", "town_code", "lon", "lat", "kind", "need",
                  "target_min", "within", "resources_within", "short", "nearest_id", "nearest_name", "nearest_min",
                  "reason_zh", "reason_en")


def _unit(kind: str) -> tuple[str, str]:
    return UNITS.get(kind, ("个", "units"))


def needs(settings: Settings) -> dict[str, dict[str, int]]:
    """kind -> {severity: count needed} for every count above 0."""
    out: dict[str, dict[str, int]] = {}
    for k, count in settings.flood_supplies.items():
        sev, kind = k.split("/", 1)
        if int(count) > 0:
            out.setdefault(kind, {})[sev] = int(count)
    return out


def point_supplies(points: pd.DataFrame, pts_xy: np.ndarray, res: Resources, travel: Travel, settings: Settings
                   ) -> pd.DataFrame:
    """One row per (flood point, kind its severity needs): need, what is within reach, what is short, the
    nearest ready resource, and the reason (zh, en) where something is short."""
    sev = points["severity"].to_numpy(dtype=object)
    has = np.isfinite(pts_xy).all(axis=1) if len(pts_xy) else np.zeros(0, bool)
    road = travel.method == "road"
    parts = []
    for kind, by_sev in needs(settings).items():
        rows = np.flatnonzero(np.isin(sev, list(by_sev)))
        if len(rows) == 0:
            continue
        need = np.array([by_sev[s] for s in sev[rows]], dtype=float)
        target = float(settings.readiness_targets.get(f"flood_point/{kind}", 0.0))
        src = res.of(kind)
        within = np.zeros(len(rows))
        count = np.zeros(len(rows), np.int64)
        ok = np.flatnonzero(has[rows])
        if len(src) and len(ok):
            if target > 0:
                s, p, _ = travel.pairs(res.xy[src], pts_xy[rows[ok]], target * 60.0)
                within[ok] = np.bincount(p, weights=res.capacity[src][s], minlength=len(ok))
                count[ok] = np.bincount(p, minlength=len(ok))
            else:
                within[ok] = res.capacity[src].sum()
                count[ok] = len(src)
        near_s = np.full(len(rows), np.inf)
        near_w = np.full(len(rows), -1, np.int64)
        if len(src) and len(ok):
            t, w, _ = travel.nearest(res.xy[src], pts_xy[rows[ok]])
            near_s[ok] = t
            near_w[ok] = np.where(w >= 0, src[np.maximum(w, 0)], -1)
        short = np.maximum(need - within, 0.0)
        nid = np.array([res.id[w] if w >= 0 else None for w in near_w], dtype=object)
        nname = np.array([res.name[w] if w >= 0 else None for w in near_w], dtype=object)
        kz, ke = kind_words(kind)
        uz, ue = _unit(kind)
        rz = np.full(len(rows), None, dtype=object)
        re_ = np.full(len(rows), None, dtype=object)
        for i in np.flatnonzero(short > 0):
            where_z = f"{target:g} 分钟内" if target > 0 else "全市"
            where_e = f"within {target:g} min" if target > 0 else "in the whole city"
            z = f"{where_z}{kz} {within[i]:g} {uz}（需 {need[i]:g} {uz}），缺 {short[i]:g} {uz}"
            e = f"{ue} {where_e}: {within[i]:g} of {need[i]:g} needed, {short[i]:g} short"
            if not has[rows[i]]:
                z, e = z + "；没有坐标", e + "; no location"
            elif near_w[i] < 0:
                z += f"；全市没有在岗可用的{kz}"
                e += f"; no ready {ke} anywhere"
            else:
                m = _minutes(near_s[i] / 60.0, target)
                label = nname[i] or nid[i]
                z += f"；最近的{kz}（{label}）{'经道路' if road else '按直线估算'}约 {m} 分钟"
                e += f"; nearest ({label}) {m} min {'by road' if road else '(straight-line estimate)'}"
            rz[i], re_[i] = z, e
        sub = points.iloc[rows]
        parts.append(obj_frame({
            "key": sub["key"].to_numpy(dtype=object), "id": sub["id"].to_numpy(dtype=object),
            "name": sub["name"].to_numpy(dtype=object), "severity": sev[rows],
            "district_code": sub["district_code"].to_numpy(dtype=object),
            "town_code": sub["town_code"].to_numpy(dtype=object), "lon": sub["lon"].to_numpy(dtype=float),
            "lat": sub["lat"].to_numpy(dtype=float), "kind": np.full(len(rows), kind, dtype=object), "need": need,
            "target_min": np.full(len(rows), target), "within": within, "resources_within": count, "short": short,
            "nearest_id": nid, "nearest_name": nname,
            "nearest_min": np.where(np.isfinite(near_s), near_s / 60.0, np.nan), "reason_zh": rz, "reason_en": re_}))
    if not parts:
        return obj_frame({c: np.empty(0, dtype=object) for c in SUPPLY_COLUMNS})
    return pd.concat(parts, ignore_index=True)


def district_supplies(supplies: pd.DataFrame, res: Resources, districts: pd.DataFrame, settings: Settings
                      ) -> pd.DataFrame:
    """Per district and kind: the need summed over its flood points, the stock of ready resources located in it
    (and of those out of service), what is short, and the reason (zh, en) where short."""
    kinds = list(needs(settings))
    codes = districts["code"].astype(str).tolist() if len(districts) else []
    extra = sorted({c for c in supplies["district_code"].dropna()} - set(codes)) if len(supplies) else []
    rows = []
    names = dict(zip(codes, districts["name"].astype(str), strict=True)) if codes else {}
    for code in codes + extra:
        for kind in kinds:
            sel = supplies[(supplies["district_code"] == code) & (supplies["kind"] == kind)] if len(supplies) \
                else supplies
            need = float(sel["need"].sum()) if len(sel) else 0.0
            mine = (res.kind == kind) & (res.district == code)
            stock = float(res.capacity[mine & res.ready].sum())
            down = float(res.capacity[mine & ~res.ready].sum())
            short = max(need - stock, 0.0)
            uz, ue = _unit(kind)
            kz, ke = kind_words(kind)
            rz = re_ = None
            if short > 0:
                rz = f"{names.get(code, code)}内涝点共需{kz} {need:g} {uz}，区内在岗可用 {stock:g} {uz}，缺 {short:g} {uz}"
                re_ = f"flood points need {need:g} {ue}, {stock:g} ready in the district, {short:g} short"
                if down:
                    rz += f"（另有 {down:g} {uz}停用维修）"
                    re_ += f" ({down:g} more out of service)"
            rows.append({"district_code": code, "name": names.get(code, code), "kind": kind,
                         "flood_points": int(len(sel)), "need": need, "stock": stock, "out_of_service": down,
                         "short": short, "reason_zh": rz, "reason_en": re_})
    cols = ["district_code", "name", "kind", "flood_points", "need", "stock", "out_of_service", "short",
            "reason_zh", "reason_en"]
    return pd.DataFrame(rows, columns=cols) if rows else pd.DataFrame({c: pd.Series(dtype=object) for c in cols})


__all__ = ["UNITS", "needs", "point_supplies", "district_supplies"]
