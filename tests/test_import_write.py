"""The write at the end of an import: all or nothing, and a race lost to another import is a rejection report."""

from __future__ import annotations

import sqlite3

import pytest
from test_import_bad import _csv, _rows, _state, build_city

from layers.errors import ImportRejected, StoreError
from layers.ingest.importer import import_file
from layers.store import gpkg


@pytest.fixture
def city(tmp_path):
    return build_city(tmp_path)


def test_an_import_that_loses_the_race_for_its_ids_is_rejected_with_the_usual_report(city, tmp_path, monkeypatch):
    """Both imports check their ids against the store before writing; the other one writes first."""
    ours = _csv(tmp_path, _rows(编号=["A1", "A2", "A3"]), name="ours.csv")
    theirs = _csv(tmp_path, _rows(编号=["B1", "A2", "B3"]), name="theirs.csv")
    real = gpkg.GeoPackageStore.transaction

    def other_import_commits_first(self):
        monkeypatch.setattr(gpkg.GeoPackageStore, "transaction", real)
        import_file(city, "enterprises", theirs, crs="wgs84")  # between our check and our write
        return real(self)

    monkeypatch.setattr(gpkg.GeoPackageStore, "transaction", other_import_commits_first)
    before_theirs = _state(city)
    with pytest.raises(Exception) as err:
        import_file(city, "enterprises", ours, crs="wgs84")
    monkeypatch.setattr(gpkg.GeoPackageStore, "transaction", real)
    assert type(err.value).__name__ == "ImportRejected", err.value  # not SQLite's raw UNIQUE message
    msg = str(err.value)
    assert "UNIQUE" not in msg and "已在图层 企业 中存在" in msg and "already exists in layer enterprises" in msg
    rep = err.value.report
    assert rep.status == "rejected" and rep.written == 0
    assert [(i.row, i.field) for i in rep.issues if i.outcome == "rejected"] == [(3, "编号")]
    # only the other import's rows, quarantine and log are there
    assert set(city.read("enterprises")["id"]) == {"E0", "B1", "A2", "B3"}
    assert len(city.imports()) == before_theirs[3] + 1
    assert list(city.imports()["source"].map(lambda s: s.rsplit("/", 1)[-1])) == ["theirs.csv"]


def test_a_race_over_credit_codes_used_as_ids_is_reported_the_same_way(city, tmp_path, monkeypatch):
    df = _rows().drop(columns="编号")
    ours = _csv(tmp_path, df, name="ours.csv")
    theirs = _csv(tmp_path, df.iloc[[1]], name="theirs.csv")
    real = gpkg.GeoPackageStore.transaction

    def other_import_commits_first(self):
        monkeypatch.setattr(gpkg.GeoPackageStore, "transaction", real)
        import_file(city, "enterprises", theirs, crs="wgs84")
        return real(self)

    monkeypatch.setattr(gpkg.GeoPackageStore, "transaction", other_import_commits_first)
    with pytest.raises(ImportRejected) as err:
        import_file(city, "enterprises", ours, crs="wgs84")
    assert "credit code (the id)" in str(err.value)
    rep = err.value.report
    assert [(i.row, i.field) for i in rep.issues if i.outcome == "rejected"] == [(3, "统一社会信用代码")]


@pytest.mark.parametrize("where", ["rows", "log"])
def test_a_write_that_fails_partway_leaves_nothing(city, tmp_path, monkeypatch, where):
    """Rows, quarantine entries and the import log go in one transaction: a failure at any step undoes all."""
    f = _csv(tmp_path, _rows(编号=["A1", "A2", "A3", "A4"], 名称=["甲", "乙", "", "丁"],
                              统一社会信用代码=[None] * 4, 行业=["工贸"] * 4, 风险等级=["低"] * 4,
                              经度=[114.25, 114.26, 114.27, 114.28], 纬度=[30.6] * 4))
    before = _state(city)
    if where == "rows":  # the second chunk of rows fails, after the first went in
        monkeypatch.setattr(gpkg, "_INSERT_CHUNK", 1)
        real_chunk = gpkg._GpkgTransaction._insert_chunk
        calls = []

        def flaky(self, *a, **kw):
            calls.append(1)
            if len(calls) == 2:
                raise sqlite3.OperationalError("disk I/O error")
            return real_chunk(self, *a, **kw)

        monkeypatch.setattr(gpkg._GpkgTransaction, "_insert_chunk", flaky)
    else:  # rows and quarantine are in, the import log fails
        def broken_log(self, record):
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(gpkg._GpkgTransaction, "log_import", broken_log)
    with pytest.raises(StoreError, match="nothing was changed"):
        import_file(city, "enterprises", f, crs="wgs84")
    assert _state(city) == before  # data version, row counts, quarantine entries, import-log rows
    assert set(city.read("enterprises")["id"]) == {"E0"}
