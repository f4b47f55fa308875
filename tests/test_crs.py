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

# Control points, (lon, lat) in degrees, as published to full double precision by the two widely used reference
# implementations of the GCJ-02 and BD-09 offsets:
#  - eviltransform, github.com/googollee/eviltransform: python/test.py TESTS (the same three points in its go/,
#    javascript/ and csharp/ tests), wgs2gcj;
#  - coordtransform, github.com/wandergis/coordtransform: README.md "result" for (116.404, 39.915), wgs84togcj02
#    and gcj02tobd09; its Go port github.com/feiquan123/coordtransform-go: coordtransform_test.go (Wuhan); its
#    Dart port github.com/ipcjs/coordtransform_dart: test/coordtransform_dart_test.dart ("compare with
#    coordtransform.java"), wgs84ToBd09.
# Both use the Krasovsky ellipsoid (a = 6378245 m). Their own tests compare to about 0.1 m, which a changed
# constant passes (a = 6378137 m, the WGS-84 value, moves every point by 8-10 mm). Here every point is pinned,
# forward and inverse, to 0.1 mm (well within 1 mm; ours agree to a few micrometres), so that even the WGS-84
# eccentricity in place of Krasovsky's (0.1-0.3 mm) or a semi-major axis off by 2 m fails.
WGS_TO_GCJ = {
    "Shanghai (eviltransform)": ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    "Shenzhen (eviltransform)": ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    "Beijing (eviltransform)": ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    "Beijing (coordtransform)": ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    "Wuhan (coordtransform-go)": ((114.363089, 30.517411), (114.36861383019243, 30.515078352018758)),
}
GCJ_TO_BD = {
    "Beijing (coordtransform)": ((116.404, 39.915), (116.41036949371029, 39.92133699351021)),
    "Wuhan (coordtransform-go)": ((114.363089, 30.517411), (114.36951652929112, 30.523754384540837)),
}
WGS_TO_BD = {
    "Wuhan (coordtransform-go)": ((114.363089, 30.517411), (114.3750500836037, 30.521392123098003)),
    "Chuzhou (coordtransform_dart)": ((118.3013077, 32.2719040), (118.31309502519456, 32.27614034221775)),
}
TOL_M = 1e-4

# Control points across China, north, south, west and east of the formula's origin (105 E, 35 N): every point above
# lies east of 105 E and between 22 and 40 N, where a bug in the western half (x = lon - 105 < 0, e.g. sqrt(x) for
# sqrt(|x|)) or in the latitude terms far north or south does not show. The values are those of
# github.com/wandergis/coordtransform, index.js (commit 606c6f3b57b6, the npm package "coordtransform"), wgs84togcj02
# and gcj02tobd09, run under Node 20 on the inputs below and printed to full double precision (its own test lists
# only Beijing); they were not computed with our code. Harbin's neighbour at 45 N is also in hutool's test
# (github.com/dromara/hutool, hutool-core/src/test/java/cn/hutool/core/util/CoordinateUtilTest.java,
# wgs84toBd09Test2, asserted with delta 0). All with a = 6378245 m and ee = 0.00669342162296594323.
# (googollee/eviltransform's python/eviltransform/__init__.py now uses a = 6378137 m and sin(y * pi) in gcj2bd, and
# so is not a reference for 1 mm; its test vectors above were made with 6378245 m and agree with coordtransform.)
ACROSS_CHINA = {  # name: (WGS-84, GCJ-02, BD-09 of that GCJ-02)
    "Beijing": ((116.3975, 39.9087), (116.40374357265176, 39.91010349934476), (116.4101165864734, 39.91644274963076)),
    "Guangzhou": ((113.2644, 23.1291), (113.26972959210308, 23.126423339922844),
                  (113.27615075157122, 23.13271125723948)),
    "Sanya": ((109.5119, 18.2528), (109.51598429482667, 18.25109479173564), (109.52253179173881, 18.25687655375912)),
    "Urumqi": ((87.6168, 43.8256), (87.61964994946926, 43.82680539311119), (87.62609977081571, 43.83294979479329)),
    "Kashgar": ((75.9897, 39.4704), (75.99265466005465, 39.47062672639562), (75.99916270081556, 39.47659079500847)),
    "Lhasa": ((91.1409, 29.6456), (91.14242933648593, 29.642863987365978), (91.14902038765206, 29.64859369309066)),
    "Harbin": ((126.5349, 45.8038), (126.54094071740515, 45.80578177471768), (126.54755961849878, 45.81139597011796)),
}


def _pairs(table: dict) -> list:
    return [pytest.param(a, b, id=name) for name, (a, b) in table.items()]


@pytest.mark.parametrize("wgs,gcj", _pairs(WGS_TO_GCJ))
def test_wgs84_to_gcj02_matches_the_published_control_points(wgs, gcj):
    lon, lat = wgs84_to_gcj02(*wgs)
    assert haversine_m(lon, lat, *gcj) < TOL_M
    assert 400 < haversine_m(*wgs, lon, lat) < 700     # the offset itself: the known few hundred metres
    assert haversine_m(*gcj02_to_wgs84(*gcj), *wgs) < TOL_M  # the one-step inverse many libraries ship is metres off


@pytest.mark.parametrize("gcj,bd", _pairs(GCJ_TO_BD))
def test_gcj02_to_bd09_matches_the_published_control_points(gcj, bd):
    assert haversine_m(*gcj02_to_bd09(*gcj), *bd) < TOL_M
    # Baidu's published one-step inverse (coordtransform's bd09togcj02) is 2-5 cm off; ours is exact
    assert haversine_m(*bd09_to_gcj02(*bd), *gcj) < TOL_M


@pytest.mark.parametrize("wgs,bd", _pairs(WGS_TO_BD))
def test_wgs84_to_bd09_matches_the_published_control_points(wgs, bd):
    assert haversine_m(*wgs84_to_bd09(*wgs), *bd) < TOL_M
    assert haversine_m(*bd09_to_wgs84(*bd), *wgs) < TOL_M


@pytest.mark.parametrize("name", list(ACROSS_CHINA))
def test_gcj02_and_bd09_match_coordtransform_across_china(name):
    wgs, gcj, bd = ACROSS_CHINA[name]
    assert haversine_m(*wgs84_to_gcj02(*wgs), *gcj) < TOL_M
    assert haversine_m(*gcj02_to_wgs84(*gcj), *wgs) < TOL_M
    assert haversine_m(*gcj02_to_bd09(*gcj), *bd) < TOL_M
    assert haversine_m(*bd09_to_gcj02(*bd), *gcj) < TOL_M
    assert haversine_m(*wgs84_to_bd09(*wgs), *bd) < TOL_M
    assert haversine_m(*bd09_to_wgs84(*bd), *wgs) < TOL_M
    assert 200 < haversine_m(*wgs, *gcj) < 700  # the offset: a few hundred metres, least in the far west


def test_wgs84_to_bd09_matches_hutool_at_45_north():
    # hutool CoordinateUtilTest.wgs84toBd09Test2 (see ACROSS_CHINA): (122.99395597, 44.99804071) in WGS-84
    bd = (123.00636516028885, 45.0063690918959)
    assert haversine_m(*wgs84_to_bd09(122.99395597, 44.99804071), *bd) < TOL_M
    assert haversine_m(*bd09_to_wgs84(*bd), 122.99395597, 44.99804071) < TOL_M


def test_control_points_as_arrays_give_the_same_answers():
    wgs, gcj = (np.array(v).T for v in zip(*WGS_TO_GCJ.values(), strict=True))
    lon, lat = wgs84_to_gcj02(*wgs)
    assert lon.shape == (len(WGS_TO_GCJ),)
    assert haversine_m(lon, lat, *gcj).max() < TOL_M
    assert haversine_m(*gcj02_to_wgs84(*gcj), *wgs).max() < TOL_M


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
