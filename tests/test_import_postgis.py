"""``python -m layers import … --store postgresql://…``: an import into PostGIS writes what it writes into a
GeoPackage (rows, quarantine, import log), and a rejected batch writes nothing."""

from __future__ import annotations

import pandas as pd
from pg_fixtures import pg_server, pg_url  # noqa: F401  (fixtures)

from layers import credit_code
from layers.cli import main
from layers.store import open_store


def _csv(tmp_path, **over):
    df = pd.DataFrame({"编号": ["A1", "A2", "A3"], "名称": ["甲", "乙", "丙"],
                       "统一社会信用代码": credit_code.make_many(3, seed=1), "行业": ["工贸", "工贸", "矿山"],
                       "风险等级": ["低", "紫色", "重大"], "经度": [114.25, 114.26, 114.27], "纬度": [30.6, 30.6, 30.61]})
    for k, v in over.items():
        df[k] = v
    f = tmp_path / "企业.csv"
    df.to_csv(f, index=False, encoding="gbk")
    return f


def test_import_into_postgis_matches_the_geopackage(pg_url, tmp_path, capsys):  # noqa: F811
    f = _csv(tmp_path)
    gpkg = tmp_path / "city.gpkg"
    assert main(["import", "enterprises", str(f), "--store", pg_url, "--crs", "gcj02"]) == 0
    assert main(["import", "enterprises", str(f), "--store", str(gpkg), "--crs", "gcj02"]) == 0
    assert "import written" in capsys.readouterr().out
    pg, gp = open_store(pg_url, create=False), open_store(gpkg, create=False)
    assert pg.count("enterprises") == 2
    pd.testing.assert_frame_equal(pg.read("enterprises"), gp.read("enterprises"))
    drop = ["imported_at"]
    pd.testing.assert_frame_equal(pg.quarantined().drop(columns=drop), gp.quarantined().drop(columns=drop))
    keep = ["layer", "mode", "rows_read", "written", "quarantined", "fixed"]
    pd.testing.assert_frame_equal(pg.imports()[keep], gp.imports()[keep])
    assert pg.data_version() == gp.data_version() == 1


def test_a_rejected_import_writes_nothing_into_postgis(pg_url, tmp_path, capsys):  # noqa: F811
    assert main(["import", "enterprises", str(_csv(tmp_path, 编号=["A1", "A1", "A2"])), "--store", pg_url,
                 "--crs", "wgs84"]) == 1
    assert "rejected" in capsys.readouterr().out
    s = open_store(pg_url, create=False)
    assert s.count("enterprises") == 0 and s.data_version() == 0 and len(s.imports()) == 0
