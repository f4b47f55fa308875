"""``python -m layers copy-store``: a whole store from a GeoPackage into PostGIS and back, nothing lost."""

from __future__ import annotations

import pandas as pd
import pytest
from pg_fixtures import pg_server, pg_url  # noqa: F401  (fixtures)
from store_sample import IMPORT_RECORD, QUARANTINE_ROWS, every_layer

from layers.cli import main
from layers.errors import StoreError
from layers.schema import LAYERS
from layers.store import open_store
from layers.store.copy import copy_store


def _filled(path) -> object:
    store = open_store(path)
    with store.transaction() as tx:
        for name, frame in every_layer().items():
            tx.append(name, frame)
    with store.transaction() as tx:
        tx.quarantine(QUARANTINE_ROWS)
        tx.log_import(IMPORT_RECORD)
    with store.transaction() as tx:
        assert tx.update_versioned("hazards", "hazards-id-0", 1, {"status": "closed"}) == 2
    return store


def _assert_same(a, b) -> None:
    for name in LAYERS:
        pd.testing.assert_frame_equal(a.read(name), b.read(name), obj=name)
    pd.testing.assert_frame_equal(a.quarantined(), b.quarantined())     # times kept
    pd.testing.assert_frame_equal(a.imports(), b.imports())
    assert a.last_import() == b.last_import()


def test_gpkg_to_postgis_and_back_loses_nothing(tmp_path, pg_url, capsys):  # noqa: F811
    src = _filled(tmp_path / "src.gpkg")
    assert main(["copy-store", str(src.url), pg_url]) == 0
    out = capsys.readouterr().out
    assert "已复制" in out and "copied" in out
    pg = open_store(pg_url)
    _assert_same(src, pg)
    assert pg.data_version() > src.data_version()           # moved forward
    back_path = tmp_path / "back.gpkg"
    assert main(["copy-store", pg_url, str(back_path)]) == 0
    back = open_store(back_path)
    _assert_same(src, back)
    assert back.data_version() > pg.data_version()
    # the copies are stores like any other: a versioned edit goes on from the copied version
    with back.transaction() as tx:
        assert tx.update_versioned("hazards", "hazards-id-0", 2, {"status": "open"}) == 3


def test_copy_refuses_a_destination_with_data(tmp_path, pg_url, capsys):  # noqa: F811
    src = _filled(tmp_path / "src.gpkg")
    dst = open_store(pg_url)
    with dst.transaction() as tx:
        tx.append("roads", every_layer("x")["roads"])
    before = dst.data_version()
    with pytest.raises(StoreError, match="not empty"):
        copy_store(src, dst)
    assert main(["copy-store", str(src.url), pg_url]) == 1
    assert "not empty" in capsys.readouterr().out
    assert dst.data_version() == before and dst.count("enterprises") == 0


def test_copy_of_a_missing_store_says_so(tmp_path, capsys):
    assert main(["copy-store", str(tmp_path / "nope.gpkg"), str(tmp_path / "out.gpkg")]) == 1
    assert "does not exist" in capsys.readouterr().out
    assert not (tmp_path / "out.gpkg").exists()
