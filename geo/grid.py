"""H3 hexagon grid helpers, vectorised.

``h3`` (v4) offers ``latlng_to_cell`` only for one point at a time (about 1 µs a call from Python, so a second
for a million points). :func:`latlng_to_cells` gets the same answer for whole arrays: it does H3's own first step
(gnomonic projection of each point onto the closest icosahedron face, in H3's "hex2d" plane of the requested
resolution) with numpy, rounds each point to its nearest hexagon centre in that plane (the hexagon that holds
it), and then asks ``h3`` once per distinct (face, hexagon) for the index, using one of that hexagon's own
points. Points that lie within a hair (1e-9 hexagon units, scaled) of a hexagon edge or of a face boundary,
where float rounding could decide differently from H3's C code, are sent to ``h3`` one by one. The result is
identical to calling ``h3.latlng_to_cell`` on every point (tests check it, including points on cell edges).

Knows nothing of enterprises, the store or Dash. Coordinates are WGS-84 degrees.
"""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import shapely
from h3.api import basic_int as h3i

__all__ = ["latlng_to_cells", "latlng_to_cells_scalar", "cells_to_polygons", "cell_centers", "cells_to_str",
           "str_to_cells", "cell_area_km2"]

# H3 constants (h3lib faceijk.c / constants.h)
_FACE_CENTER_GEO = np.array([
    (0.803582649718989942, 1.248397419617396099), (1.307747883455638156, 2.536945009877921159),
    (1.054751253523952054, -1.347517358900396623), (0.600191595538186799, -0.450603909469755746),
    (0.491715428198773866, 0.401988202911306943), (0.172745327415618701, 1.678146885280433686),
    (0.605929321571350690, 2.953923329812411617), (0.427370518328979641, -1.888876200336285401),
    (-0.079066118549212831, -0.733429513380867741), (-0.230961644455383637, 0.506495587332349035),
    (0.079066118549212831, 2.408163140208925497), (0.230961644455383637, -2.635097066257444203),
    (-0.172745327415618701, -1.463445768309359553), (-0.605929321571350690, -0.187669323777381622),
    (-0.427370518328979641, 1.252716453253507838), (-0.600191595538186799, 2.690988744120037492),
    (-0.491715428198773866, -2.739604450678486295), (-0.803582649718989942, -1.893195233972397139),
    (-1.307747883455638156, -0.604647643711872080), (-1.054751253523952054, 1.794075294689396615),
])
_FACE_CENTER_XYZ = np.array([
    (0.2199307791404606, 0.6583691780274996, 0.7198475378926182),
    (-0.2139234834501421, 0.1478171829550703, 0.9656017935214205),
    (0.1092625278784797, -0.4811951572873210, 0.8697775121287253),
    (0.7428567301586791, -0.3593941678278028, 0.5648005936517033),
    (0.8112534709140969, 0.3448953237639384, 0.4721387736413930),
    (-0.1055498149613921, 0.9794457296411413, 0.1718874610009365),
    (-0.8075407579970092, 0.1533552485898818, 0.5695261994882688),
    (-0.2846148069787907, -0.8644080972654206, 0.4144792552473539),
    (0.7405621473854482, -0.6673299564565524, -0.0789837646326737),
    (0.8512303986474293, 0.4722343788582681, -0.2289137388687808),
    (-0.7405621473854481, 0.6673299564565524, 0.0789837646326737),
    (-0.8512303986474292, -0.4722343788582682, 0.2289137388687808),
    (0.1055498149613919, -0.9794457296411413, -0.1718874610009365),
    (0.8075407579970092, -0.1533552485898819, -0.5695261994882688),
    (0.2846148069787908, 0.8644080972654204, -0.4144792552473539),
    (-0.7428567301586791, 0.3593941678278027, -0.5648005936517033),
    (-0.8112534709140971, -0.3448953237639382, -0.4721387736413930),
    (-0.2199307791404607, -0.6583691780274996, -0.7198475378926182),
    (0.2139234834501420, -0.1478171829550704, -0.9656017935214205),
    (-0.1092625278784796, 0.4811951572873210, -0.8697775121287253),
])
_FACE_AXIS_AZ0 = np.array([
    5.619958268523939882, 5.760339081714187279, 0.780213654393430055, 0.430469363979999913,
    6.130269123335111400, 2.692877706530642877, 2.982963003477243874, 3.532912002790141181,
    3.494305004259568154, 3.003214169499538391, 5.930472956509811562, 0.138378484090254847,
    0.448714947059150361, 0.158629650112549365, 5.891865957979238535, 2.711123289609793325,
    3.294508837434268316, 3.804819692245439833, 3.664438879055192436, 2.361378999196363184,
])
_RES0_U_GNOMONIC = 0.38196601125010500003
_AP7_ROT_RADS = 0.333473172251832115336090755351601070065900389
_SQRT7 = 2.6457513110645905905016157536392604257102
_SQRT3_2 = 0.8660254037844386467637231707529361834714
_TWO_PI = 2.0 * np.pi


def _pos_angle(a: np.ndarray) -> np.ndarray:
    out = np.fmod(a, _TWO_PI)
    return np.where(out < 0, out + _TWO_PI, out)


def latlng_to_cells_scalar(lat, lng, res: int) -> np.ndarray:
    """``h3.latlng_to_cell`` point by point (the reference; uint64 cell ids)."""
    f = h3i.latlng_to_cell
    return np.fromiter(map(f, np.asarray(lat, float).tolist(), np.asarray(lng, float).tolist(),
                           [res] * len(lat)), dtype=np.uint64, count=len(lat))


def latlng_to_cells(lat, lng, res: int, *, margin: float = 1e-9) -> np.ndarray:
    """H3 cells (uint64 ids) of many points at resolution ``res``; identical to ``h3.latlng_to_cell``.

    Parameters
    ----------
    lat, lng : arrays of WGS-84 degrees, same length.
    res : H3 resolution 0..15.
    margin : points closer than ``margin * (1 + r)`` hexagon units to a cell edge (``r`` their distance from
        the face centre in those units) or a face boundary are passed to ``h3`` one by one.
    """
    lat = np.asarray(lat, dtype=float)
    lng = np.asarray(lng, dtype=float)
    if lat.shape != lng.shape or lat.ndim != 1:
        raise ValueError("lat and lng must be 1-D arrays of the same length")
    if not 0 <= res <= 15:
        raise ValueError(f"H3 resolution must be 0..15, got {res}")
    n = len(lat)
    out = np.zeros(n, dtype=np.uint64)
    if n == 0:
        return out
    bad = ~(np.isfinite(lat) & np.isfinite(lng))
    if bad.any():
        raise ValueError(f"{int(bad.sum())} points have no finite coordinates (first at {int(np.argmax(bad))})")
    la = np.radians(lat)
    lo = np.radians(lng)
    cl = np.cos(la)
    sla = np.sin(la)
    x3, y3, z3 = np.cos(lo) * cl, np.sin(lo) * cl, sla
    # the closest icosahedron face (largest dot product with its centre). Faces that cannot be the closest for
    # any point are pruned first: with the points' mean direction m and angular radius rho around it, face f's
    # dot lies in [cos(a_f + rho), cos(max(a_f - rho, 0))] (a_f its angle from m). A city keeps one face.
    m = np.array([x3.mean(), y3.mean(), z3.mean()])
    norm = float(np.linalg.norm(m))
    if norm > 1e-6:
        m = m / norm
        rho = float(np.arccos(np.clip((x3 * m[0] + y3 * m[1] + z3 * m[2]).min(), -1.0, 1.0))) + 1e-9
        a_f = np.arccos(np.clip(_FACE_CENTER_XYZ @ m, -1.0, 1.0))
        lower = np.cos(np.minimum(a_f + rho, np.pi))
        upper = np.cos(np.maximum(a_f - rho, 0.0))
        faces = np.flatnonzero(upper >= lower.max() - 1e-9)
    else:
        faces = np.arange(len(_FACE_CENTER_XYZ))
    if len(faces) == 1:
        face = np.full(n, faces[0], dtype=np.int64)
        face_clear = np.ones(n, dtype=bool)
    else:
        c = _FACE_CENTER_XYZ[faces]
        dots = x3[:, None] * c[None, :, 0] + y3[:, None] * c[None, :, 1] + z3[:, None] * c[None, :, 2]
        k = np.argmax(dots, axis=1)
        face = faces[k]
        rows = np.arange(n)
        best_dot = dots[rows, k]
        dots[rows, k] = -np.inf
        face_clear = (best_dot - dots.max(axis=1)) > 1e-12
    fc = _FACE_CENTER_XYZ[face] if len(faces) > 1 else _FACE_CENTER_XYZ[faces[0]][None, :]
    sqd = (x3 - fc[:, 0]) ** 2 + (y3 - fc[:, 1]) ** 2 + (z3 - fc[:, 2]) ** 2
    r = np.arccos(1.0 - sqd / 2.0)
    # azimuth from the face centre to the point
    sel = face if len(faces) > 1 else faces[0]
    flat, flng, axis0 = _FACE_CENTER_GEO[sel, 0], _FACE_CENTER_GEO[sel, 1], _FACE_AXIS_AZ0[sel]
    dl = lo - flng
    az = np.arctan2(cl * np.sin(dl), np.cos(flat) * sla - np.sin(flat) * cl * np.cos(dl))
    theta = _pos_angle(axis0 - _pos_angle(az))
    if res % 2 == 1:
        theta = _pos_angle(theta - _AP7_ROT_RADS)
    rr = np.tan(r) / _RES0_U_GNOMONIC
    for _ in range(res):
        rr = rr * _SQRT7
    x = rr * np.cos(theta)
    y = rr * np.sin(theta)
    # H3's ijk lattice: the centre of (i, j) is at (i - j/2, j*sqrt(3)/2), one unit apart. With q = i - j and
    # s = j the centres are q*(1, 0) + s*(1/2, sqrt(3)/2); cube rounding of (q, s) gives the nearest centre,
    # i.e. the hexagon holding the point.
    sf = y / _SQRT3_2
    qf = x - sf / 2.0
    tf = -qf - sf
    q = np.rint(qf)
    s = np.rint(sf)
    t = np.rint(tf)
    dq, ds, dt = np.abs(q - qf), np.abs(s - sf), np.abs(t - tf)
    fix_q = (dq > ds) & (dq > dt)
    fix_s = ~fix_q & (ds > dt)
    q = np.where(fix_q, -s - t, q)
    s = np.where(fix_s, -q - t, s)
    bj = s.astype(np.int64)
    bi = q.astype(np.int64) + bj
    # offset from that centre; the hexagon's edges lie 1/2 from the centre across three directions
    ox = x - (q + s / 2.0)
    oy = y - s * _SQRT3_2
    edge = np.maximum(np.abs(ox), np.maximum(np.abs(0.5 * ox + _SQRT3_2 * oy), np.abs(0.5 * ox - _SQRT3_2 * oy)))
    clear = face_clear & (edge < 0.5 - margin * (1.0 + rr)) & (r >= 1e-12)
    # (|i|, |j| < 2^23 at every resolution: r is at most ~1.2e7 units at res 15)
    key = ((face.astype(np.int64) << 48) | ((bi + (1 << 23)) << 24) | (bj + (1 << 23)))[clear]
    clear_idx = np.flatnonzero(clear)
    if len(key):
        codes, uniq = pd.factorize(key)
        first = np.full(len(uniq), -1, dtype=np.int64)
        first[codes[::-1]] = np.arange(len(codes))[::-1]
        cells_u = latlng_to_cells_scalar(lat[clear_idx[first]], lng[clear_idx[first]], res)
        out[clear_idx] = cells_u[codes]
    unclear = np.flatnonzero(~clear)
    if len(unclear):
        out[unclear] = latlng_to_cells_scalar(lat[unclear], lng[unclear], res)
    return out


def cells_to_str(cells) -> np.ndarray:
    """H3 ids as hexadecimal strings (what ``h3.latlng_to_cell`` returns)."""
    return np.array([h3i.int_to_str(int(c)) for c in np.asarray(cells, dtype=np.uint64)], dtype=object)


def str_to_cells(cells) -> np.ndarray:
    return np.array([h3i.str_to_int(c) for c in cells], dtype=np.uint64)


def cell_centers(cells) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lng) in degrees of each cell's centre."""
    cells = np.asarray(cells, dtype=np.uint64)
    if len(cells) == 0:
        return np.empty(0), np.empty(0)
    ll = np.array([h3i.cell_to_latlng(int(c)) for c in cells], dtype=float)
    return ll[:, 0], ll[:, 1]


def cells_to_polygons(cells, *, scale: float = 1.0) -> np.ndarray:
    """Shapely polygons (lng/lat, EPSG:4326) of each cell's boundary, built in one vectorised call.

    ``scale`` > 1 enlarges each polygon about the mean of its vertices (a margin of ``scale - 1`` times the
    cell's inradius, roughly)."""
    cells = np.asarray(cells, dtype=np.uint64)
    if len(cells) == 0:
        return np.empty(0, dtype=object)
    rings = [h3i.cell_to_boundary(int(c)) for c in cells]
    counts = np.fromiter(map(len, rings), dtype=np.int64, count=len(rings))
    latlng = np.array([p for r in rings for p in r], dtype=float)
    xy = latlng[:, ::-1].copy()
    owner = np.repeat(np.arange(len(cells)), counts)
    if scale != 1.0:
        centre = np.column_stack([np.bincount(owner, weights=xy[:, k]) / counts for k in (0, 1)])
        xy = centre[owner] + scale * (xy - centre[owner])
    # close each ring: its first vertex again at its end
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    closed = np.insert(xy, np.cumsum(counts), xy[starts], axis=0)
    ring_owner = np.repeat(np.arange(len(cells)), counts + 1)
    return shapely.polygons(shapely.linearrings(closed, indices=ring_owner))


def cell_area_km2(res: int) -> float:
    """Average area of a cell at ``res`` in km²."""
    return float(h3.average_hexagon_area(res, unit="km^2"))
