"""The store is a valid GeoPackage: GDAL's own validator passes it, fresh, after an import, and after migrating.

The validator is ``validate_gpkg.py`` from Debian's ``python3-gdal`` package (``apt-get install -y python3-gdal``),
run with Debian's ``/usr/bin/python3`` (which has the ``osgeo`` bindings it uses to check every geometry) as
``validate_gpkg.py -k --extra FILE``: keep going after the first error, and check every row's content too.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from test_store_rtree import assert_index_matches

from layers import credit_code
from layers.ingest.importer import import_file
from layers.store import SCHEMA_VERSION, open_store

VALIDATOR_PATHS = (
    os.environ.get("RISKMAP_VALIDATE_GPKG", ""),
    "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py",
    "/usr/share/doc/python3-gdal/examples/validate_gpkg.py",
)
DEBIAN_PYTHON = "/usr/bin/python3"


def validate(path: Path) -> str:
    """Run GDAL's validator on ``path``; fail the test with its findings unless it passes."""
    script = next((p for p in VALIDATOR_PATHS if p and Path(p).is_file()), None)
    if script is None or not Path(DEBIAN_PYTHON).is_file():
        pytest.fail("GDAL's GeoPackage validator is missing: install Debian's python3-gdal "
                    "(apt-get install -y python3-gdal), which ships "
                    "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py, or set "
                    "RISKMAP_VALIDATE_GPKG to the script's path")
    done = subprocess.run([DEBIAN_PYTHON, script, "-k", "--extra", str(path)], capture_output=True, text=True,
                          timeout=600, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    report = (done.stdout + done.stderr).strip()
    if done.returncode != 0:
        pytest.fail(f"validate_gpkg.py -k --extra {path.name} failed (exit {done.returncode}):\n{report}")
    return report


def test_a_fresh_demo_city_passes_gdals_validator(demo_store_path, tmp_path):
    path = tmp_path / "city.gpkg"
    shutil.copyfile(demo_store_path, path)
    assert validate(path) == ""


def test_a_store_after_an_import_passes_gdals_validator(writable_store, tmp_path):
    n = 20
    frame = pd.DataFrame({
        "编号": [f"NEW{i}" for i in range(n)], "企业名称": [f"新企业{i}" for i in range(n)],
        "统一社会信用代码": credit_code.make_many(n, seed=5), "行业": "危险化学品", "风险等级": "重大",
        "经度": [114.30 + 0.001 * i for i in range(n)], "纬度": 30.60, "从业人数": 12,
    })
    f = tmp_path / "企业.csv"
    frame.to_csv(f, index=False)
    report = import_file(writable_store, "enterprises", f, crs="wgs84")
    assert report.written == n
    assert validate(Path(writable_store.url)) == ""


def test_last_change_is_written_as_the_spec_says(tmp_path):
    store = open_store(tmp_path / "s.gpkg")
    with store.transaction() as tx:
        tx.append("departments", pd.DataFrame({"id": ["D1"], "name": ["应急管理局"]}))
    with sqlite3.connect(store.url) as con:
        changes = dict(con.execute("SELECT table_name, last_change FROM gpkg_contents"))
    pattern = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"
    assert pd.Series(changes).str.match(pattern).all(), changes


def _as_schema_version_1(path: Path) -> None:
    """Turn a store back into what schema version 1 wrote: offset timestamps in gpkg_contents.last_change, the
    bookkeeping tables without an INTEGER PRIMARY KEY (what GDAL's validator failed as Req 15 and 119), no
    R-tree indexes and no gpkg_extensions, GeoPackage 1.4 in the header."""
    with sqlite3.connect(path, isolation_level=None) as con:
        con.execute("BEGIN")
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'rtree%'"
                                   ).fetchall():
            con.execute(f'DROP TRIGGER "{name}"')
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE "
                                   "'CREATE VIRTUAL TABLE%rtree%'").fetchall():
            con.execute(f'DROP TABLE "{name}"')
        con.execute("DROP TABLE gpkg_extensions")
        con.execute("PRAGMA user_version = 10400")
        con.execute("UPDATE gpkg_contents SET last_change = '2026-12-01T08:35:40+00:00'")
        meta = con.execute("SELECT key, value FROM riskmap_meta").fetchall()
        con.execute("DROP TABLE riskmap_meta")
        con.execute("CREATE TABLE riskmap_meta (key TEXT PRIMARY KEY, value TEXT)")
        con.executemany("INSERT INTO riskmap_meta VALUES (?, ?)", meta)
        con.execute("DROP TABLE riskmap_schema_version")
        con.execute("CREATE TABLE riskmap_schema_version (version INTEGER NOT NULL, applied_at TEXT NOT NULL)")
        con.execute("INSERT INTO riskmap_schema_version VALUES (1, '2026-01-01T00:00:00+00:00')")
        con.execute("COMMIT")


def test_a_store_written_by_schema_version_1_is_migrated_to_a_valid_geopackage(writable_store, tmp_path):
    version = writable_store.data_version()
    _as_schema_version_1(Path(writable_store.url))
    path = tmp_path / "old.gpkg"  # as another program would find it: a file this process has not opened
    shutil.copyfile(writable_store.url, path)
    store = open_store(path)
    assert store.schema_version() == SCHEMA_VERSION
    assert store.data_version() == version  # the bookkeeping survives the rebuild
    assert validate(path) == ""
    for table in ("enterprises", "roads", "districts"):  # the new indexes hold the rows the file had
        assert assert_index_matches(path, table) == store.count(table) > 0
    with store.transaction() as tx:  # and the rebuilt tables take writes
        tx.append("departments", pd.DataFrame({"id": ["D-NEW"], "name": ["新部门"]}))
    assert store.data_version() == version + 1
