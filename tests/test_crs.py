"""geo/crs.py: GCJ-02 / BD-09 <-> WGS-84 on control points, round trips, parsing of --crs."""

from __future__ import annotations

import numpy as np
import pytest

from geo.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    haversine_m,
    out_of_china,
    parse_crs,
    transform_xy,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# Published results of the widely used coordtransform library for the input (116.404, 39.915) (Beijing):
# wgs84togcj02 -> (116.41024449916938, 39.91640428150164); gcj02tobd09 -> (116.41036949371029, 39.92133699351021)
WGS_IN = (116.404, 39.915)
GCJ_OF_WGS = (116.41024449916938, 39.91640428150164)
BD_OF_GCJ = (116.41036949371029, 39.92133699351021)


def test_forward_gcj02_matches_published_offset():
    lon, lat = wgs84_to_gcj02(*WGS_IN)
    assert haversine_m(lon, lat, *GCJ_OF_WGS) < 0.01
    # and the offset itself is the known few hundred metres
    assert 400 < haversine_m(*WGS_IN, lon, lat) < 700


def test_forward_bd09_matches_published_formula():
    lon, lat = gcj02_to_bd09(*WGS_IN)
    assert haversine_m(lon, lat, *BD_OF_GCJ) < 0.01


def test_inverse_recovers_published_control_point():
    lon, lat = gcj02_to_wgs84(*GCJ_OF_WGS)
    assert haversine_m(lon, lat, *WGS_IN) < 0.05  # the common one-step inverse is off by metres here


def test_round_trip_under_2_m_over_china_and_the_demo_city():
    rng = np.random.default_rng(42)
    lon = np.concatenate([rng.uniform(74, 134, 5000), rng.uniform(114.1, 114.5, 5000)])
    lat = np.concatenate([rng.uniform(19, 53, 5000), rng.uniform(30.4, 30.8, 5000)])
    for fwd, inv in ((wgs84_to_gcj02, gcj02_to_wgs84), (wgs84_to_bd09, bd09_to_wgs84)):
        back = inv(*fwd(lon, lat))
        err = haversine_m(lon, lat, *back)
        assert err.max() < 2.0
        assert err.max() < 0.01  # in fact about a millimetre


def test_bd09_to_gcj02_inverts_gcj02_to_bd09():
    back = bd09_to_gcj02(*gcj02_to_bd09(114.3, 30.6))
    assert haversine_m(114.3, 30.6, *back) < 0.01


def test_no_offset_outside_china():
    lon, lat = wgs84_to_gcj02(np.array([2.35]), np.array([48.85]))  # Paris
    assert lon[0] == 2.35 and lat[0] == 48.85
    assert out_of_china(np.array([2.35]), np.array([48.85]))[0]
    assert not out_of_china(np.array([114.3]), np.array([30.6]))[0]


def test_vectorised_shapes_and_nan_pass_through():
    lon = np.array([114.3, np.nan, 114.4])
    lat = np.array([30.6, 30.6, np.nan])
    out_lon, out_lat = gcj02_to_wgs84(lon, lat)
    assert out_lon.shape == (3,)
    assert np.isfinite(out_lon[0]) and np.isnan(out_lon[1]) and np.isnan(out_lat[2])


@pytest.mark.parametrize("text,name,offset", [
    ("wgs84", "EPSG:4326", False), ("WGS-84", "EPSG:4326", False), ("cgcs2000", "EPSG:4490", False),
    ("gcj02", "gcj02", True), ("GCJ-02", "gcj02", True), ("bd09", "bd09", True), ("baidu", "bd09", True),
    ("EPSG:4547", "EPSG:4547", False), ("epsg:32650", "EPSG:32650", False),
])
def test_parse_crs(text, name, offset):
    src = parse_crs(text)
    assert src.name == name
    assert src.is_offset is offset


@pytest.mark.parametrize("text", ["", "mars", "EPSG:999999", "4326x"])
def test_parse_crs_rejects_unknown_with_both_languages(text):
    with pytest.raises(ValueError) as err:
        parse_crs(text)
    msg = str(err.value)
    assert "坐标系" in msg and "coordinate system" in msg


def test_transform_projected_to_wgs84():
    # UTM 50N: easting 500000 is the central meridian 117E
    lon, lat = transform_xy(np.array([500000.0]), np.array([3_390_000.0]), parse_crs("EPSG:32650"))
    assert abs(lon[0] - 117.0) < 1e-9
    assert 30.5 < lat[0] < 30.7
    # CGCS2000 is taken as WGS-84 (sub-metre difference): no change
    lon2, lat2 = transform_xy(np.array([114.3]), np.array([30.6]), parse_crs("cgcs2000"))
    assert lon2[0] == 114.3 and lat2[0] == 30.6
