"""An import whose write fails partway, for real: the test's copy of the GeoPackage gets a trigger or a unique index
(plain SQLite DDL in the file, as a DBA or another tool might add), so the failure is the database's own, raised
after some of the import's rows are already in the open transaction. Whatever table fails, the store keeps no
rows, no quarantine entries, no import-log rows and no audit rows of that import, and its data version stays.
(``test_import_write.py`` makes the same failures by patching the store's methods.)"""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from test_import_bad import _csv, _rows, _state, build_city

from layers.errors import ImportRejected, StoreError
from layers.ingest.importer import import_file
from layers.store.gpkg import IMPORTS, QUARANTINE

# four enterprises, the third without a name (quarantined): A1, A2 and A4 are written, A3 goes to quarantine
FOUR = {"编号": ["A1", "A2", "A3", "A4"], "名称": ["甲", "乙", "", "丁"], "统一社会信用代码": [None] * 4,
        "行业": ["工贸"] * 4, "风险等级": ["低"] * 4, "经度": [114.25, 114.26, 114.27, 114.28], "纬度": [30.6] * 4}


@pytest.fixture
def city(tmp_path):
    return build_city(tmp_path)


def _ddl(store, *statements: str) -> None:
    con = sqlite3.connect(store.path)
    try:
        with con:
            for s in statements:
                con.execute(s)
    finally:
        con.close()


def _nothing_left(store, before, ids=frozenset({"E0"})) -> None:
    assert _state(store) == before  # data version, row counts per layer, quarantine entries, import-log rows
    assert set(store.read("enterprises")["id"]) == ids
    assert not store.quarantined("enterprises")["source"].astype(str).str.endswith("four.csv").any()
    assert not store.imports()["source"].astype(str).str.endswith("four.csv").any()


def test_a_row_that_the_database_refuses_after_two_went_in_leaves_nothing(city, tmp_path):
    # the third row written (A4) makes SQLite raise "integer overflow" inside the insert statement
    _ddl(city, "CREATE TRIGGER test_fail_a4 BEFORE INSERT ON enterprises WHEN NEW.id = 'A4' "
               "BEGIN SELECT abs(-9223372036854775807 - 1); END")
    f = _csv(tmp_path, _rows(**FOUR), name="four.csv")
    before = _state(city)
    with pytest.raises(StoreError, match="nothing was changed") as err:
        import_file(city, "enterprises", f, crs="wgs84")
    assert "integer overflow" in str(err.value) and "未做任何更改" in str(err.value)
    _nothing_left(city, before)


def test_a_quarantine_entry_refused_by_a_unique_index_after_the_rows_leaves_nothing(city, tmp_path):
    # one quarantine entry per layer, row and field: an earlier file's row 4 without a name holds that place
    _ddl(city, f"CREATE UNIQUE INDEX test_one_entry_per_row ON {QUARANTINE} (layer, row, field)")
    earlier = _csv(tmp_path, _rows(**{**FOUR, "编号": ["B1", "B2", "B3", "B4"]}), name="earlier.csv")
    assert import_file(city, "enterprises", earlier, crs="wgs84").written == 3
    f = _csv(tmp_path, _rows(**FOUR), name="four.csv")
    before = _state(city)
    with pytest.raises(ImportRejected) as err:   # a unique constraint: reported, not SQLite's raw message
        import_file(city, "enterprises", f, crs="wgs84")
    rep = err.value.report
    assert rep.status == "rejected" and rep.written == 0
    assert "nothing of this import was written" in " ".join(n["en"] for n in rep.notes)
    _nothing_left(city, before, {"E0", "B1", "B2", "B4"})


def test_an_import_log_refused_after_rows_and_quarantine_leaves_nothing(city, tmp_path):
    _ddl(city, f"CREATE TRIGGER test_log_closed BEFORE INSERT ON {IMPORTS} "
               "BEGIN SELECT CASE WHEN 1 THEN abs(-9223372036854775807 - 1) END; END")
    f = _csv(tmp_path, _rows(**FOUR), name="four.csv")
    before = _state(city)
    with pytest.raises(StoreError, match="nothing was changed"):
        import_file(city, "enterprises", f, crs="wgs84")
    _nothing_left(city, before)


def test_a_hazard_import_whose_audit_rows_fail_leaves_no_hazards(city, tmp_path):
    # a hazard file writes two tables: the hazards, then one "import" row each in the audit log
    _ddl(city, "CREATE TRIGGER test_audit_full BEFORE INSERT ON audit_log WHEN NEW.record_id = 'H2' "
               "BEGIN SELECT abs(-9223372036854775807 - 1); END")
    path = tmp_path / "h.csv"
    path.write_text("编号,对象类型,对象编号,隐患级别,发现日期,整改状态\n"
                    "H1,enterprises,E0,一般,2026-11-02,待整改\n"
                    "H2,enterprises,E0,重大,2026-11-03,待整改\n", encoding="utf-8")
    before = _state(city)
    with pytest.raises(StoreError, match="nothing was changed"):
        import_file(city, "hazards", path, today=date(2026, 11, 30))
    assert _state(city) == before
    assert len(city.read("hazards")) == 0 and len(city.read("audit_log")) == 0
    # and with the trigger gone the same file goes in, hazards and audit rows together
    _ddl(city, "DROP TRIGGER test_audit_full")
    assert import_file(city, "hazards", path, today=date(2026, 11, 30)).written == 2
    assert set(city.read("audit_log")["record_id"]) == {"H1", "H2"}
