"""Hazard files as provincial systems and enterprises write them: a title and a note above the header, the
enterprise named by credit code and name, levels, statuses and the five elements in Chinese words, funds in
万元 or 元, no hazard id. Real files (GB18030 CSV, XLSX) against a real store (a copy of the demo city)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from layers import credit_code
from layers.errors import ImportRejected
from layers.ingest import hazard_files
from layers.ingest.importer import import_file

TODAY = dt.date(2026, 11, 28)
TITLE = "2026年第三季度隐患排查台账"
NOTE = "填报单位：示范市应急管理局（盖章）　填报日期：2026-10-08"
HEADER = ["序号", "单位名称", "统一社会信用代码", "隐患类型", "隐患描述", "隐患级别", "排查日期", "整改期限", "整改状态",
          "责任到位", "措施到位", "资金到位", "整改资金"]


def _objects(store, layer: str, n: int) -> pd.DataFrame:
    f = store.read(layer, columns=["id", "credit_code", "name", "district_code"])
    return f[f["credit_code"].notna()].head(n).reset_index(drop=True)


def _unknown_code(store) -> str:
    known = set(store.read("enterprises", columns=["credit_code"])["credit_code"]) | \
        set(store.read("venues", columns=["credit_code"])["credit_code"].dropna())
    return next(c for c in (credit_code.make(s, region="420102") for s in range(1000, 2000)) if c not in known)


def _csv(path, rows: list[list[object]], encoding: str = "gb18030") -> None:
    """A CSV as Excel saves it: every row padded to the header's width, CRLF."""
    width = max(len(r) for r in rows)
    text = "\r\n".join(",".join("" if v is None else str(v) for v in r + [""] * (width - len(r))) for r in rows)
    path.write_bytes((text + "\r\n").encode(encoding))


@pytest.fixture
def store(writable_store):
    return writable_store


@pytest.fixture
def provincial_csv(store, tmp_path):
    e = _objects(store, "enterprises", 4)
    rows = [[TITLE], [NOTE], HEADER,
            # 䶮 (U+4DAE) is outside GBK: the file is real GB18030
            [1, e.name[0], e.credit_code[0], "消防通道堵塞", "䶮字号仓库消防通道堵塞", "重大隐患", "2026-08-03",
             "2026-12-01", "整改中", "张三", "√", "√", "5万元"],
            [2, e.name[1], e.credit_code[1].lower(), "安全出口锁闭", "二楼安全出口锁闭", "一般隐患", "2026/9/1",
             "2026年10月1日", "已销号", "是", "是", "是", "50000元"],
            [3, e.name[2], e.credit_code[2], "电气线路私拉乱接", "车间电气线路私拉乱接", "一般事故隐患", "2026-09-15",
             "", "待验收", "×", "否", "否", ""],
            [4, "某某物流有限公司", _unknown_code(store), "车辆动态监控失效", "动态监控失效", "一般隐患", "2026-09-20",
             "", "待整改", "否", "否", "否", ""],
            [5, "另一家公司", e.credit_code[3], "超量储存", "仓库超量储存", "重大事故隐患", "2026-10-09", "", "已驳回",
             "李四", "是", "是", "8千元"],
            [6, e.name[3], "91420102MA4K0000X0", "超量储存", "仓库超量储存", "一般隐患", "2026-10-09", "", "待整改",
             "否", "否", "否", ""]]
    path = tmp_path / "隐患台账.csv"
    _csv(path, rows)
    return path, e


def test_a_provincial_csv_names_its_enterprises_by_credit_code(store, provincial_csv):
    path, e = provincial_csv
    before = store.count("hazards")
    rep = import_file(store, "hazards", path, today=TODAY, user="d420102")
    assert rep.encoding == "gb18030" and rep.format == "csv"
    assert (rep.read, rep.written, rep.quarantined) == (6, 3, 3)
    notes = " ".join(n["zh"] + " " + n["en"] for n in rep.notes)
    assert "表头在第 3 行" in notes and "the header is row 3" in notes and TITLE in notes
    assert "统一社会信用代码" in notes and "names checked" in notes
    assert "“序号”列是行序号" in notes and "derived from (credit code or object, found date, type" in notes
    assert store.count("hazards") == before + 3
    got = store.read("hazards", where={"target_id": e["id"][:3].tolist()})
    got = got[got["id"].str.startswith("HZ-")].set_index("target_id").loc[e["id"][:3]]
    assert got["target_layer"].tolist() == ["enterprises"] * 3
    assert got["district_code"].tolist() == e["district_code"][:3].tolist()  # the enterprise's district
    assert got["level"].tolist() == ["major", "general", "general"]
    assert got["status"].tolist() == ["rectifying", "closed", "awaiting_check"]
    assert got["found_date"].dt.strftime("%Y-%m-%d").tolist() == ["2026-08-03", "2026-09-01", "2026-09-15"]
    assert got["deadline"].iloc[1] == pd.Timestamp("2026-10-01") and pd.isna(got["deadline"].iloc[2])
    # a person's name for 责任到位 means present, and names the responsible person; √/是 yes, ×/否 no
    assert got["resp_in_place"].tolist() == [True, True, False]
    assert got["responsible_person"].iloc[0] == "张三"
    assert got["measures_in_place"].tolist() == [True, True, False]
    assert got["funds"].iloc[:2].tolist() == [5.0, 5.0] and pd.isna(got["funds"].iloc[2])  # 5万元, 50000元
    assert "䶮" in got["description"].iloc[0]
    # ids: derived, deterministic; version 0; one "import" audit row each, naming the file's row
    rows = np.array([4, 5, 6])
    expect = hazard_files.derived_ids(np.array([c.upper() for c in e["credit_code"][:3]], dtype=object),
                                      got["found_date"].reset_index(drop=True), got["type"].reset_index(drop=True),
                                      rows)
    assert got["id"].tolist() == expect.tolist()
    assert (got["version"] == 0).all() and (got["updated_by"] == "d420102").all()
    log = store.read("audit_log", where={"action": "import"})
    assert sorted(log["record_id"]) == sorted(got["id"]) and log["id"].is_unique
    by = log.set_index("record_id").loc[got["id"]]
    assert by["note"].str.contains("第 4 行|第 5 行|第 6 行").all() and (by["user_id"] == "d420102").all()
    assert by["new_value"].tolist() == got["status"].tolist()


def test_unknown_mismatched_and_invalid_codes_are_quarantined_with_the_files_row(store, provincial_csv):
    path, e = provincial_csv
    rep = import_file(store, "hazards", path, today=TODAY)
    q = {i.row: i for i in rep.issues if i.outcome == "quarantined"}
    assert set(q) == {7, 8, 9}  # the file's own rows: title, note and header count
    assert q[7].field == "统一社会信用代码" and "没有对应的企业" in q[7].reason_zh
    assert "no enterprise or venue in the store has the credit code" in q[7].reason_en
    assert q[8].field == "单位名称" and "另一家公司" in q[8].reason_zh and e["name"][3] in q[8].reason_zh
    assert "is not" in q[8].reason_en and e["credit_code"][3] in q[8].reason_en
    assert "无效" in q[9].reason_zh and "invalid" in q[9].reason_en
    kept = store.quarantined("hazards")
    assert sorted(kept["row"].astype(int)) == [7, 8, 9] and set(kept["source"]) == {path.name}
    assert all(" (" in i.text() for i in q.values())  # 中文 (English)


def test_importing_the_same_file_again_is_refused_and_writes_nothing(store, provincial_csv):
    path, _ = provincial_csv
    import_file(store, "hazards", path, today=TODAY)
    counts = (store.count("hazards"), store.count("audit_log"))
    with pytest.raises(ImportRejected) as exc:
        import_file(store, "hazards", path, today=TODAY)
    assert exc.value.report.status == "rejected"
    assert "已在图层" in str(exc.value) and "already exists" in str(exc.value)
    assert (store.count("hazards"), store.count("audit_log")) == counts


def test_an_xlsx_with_a_merged_title_funds_in_yuan_and_a_venue(store, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    e = _objects(store, "enterprises", 1)
    v = _objects(store, "venues", 1)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([TITLE])
    ws.merge_cells("A1:K1")
    ws.append([NOTE])
    ws.append(["隐患编号", "企业名称", "统一社会信用代码", "隐患类别", "隐患等级", "检查日期", "整改情况", "整改资金（元）",
               "预案到位", "时限到位", "验收人"])
    ws.append(["SX-2026-001", e.name[0], e.credit_code[0], "粉尘防爆措施缺失", "重大事故隐患", dt.datetime(2026, 7, 6),
               "已驳回", 120000, "《粉尘爆炸专项应急预案》", "2026-09-30", None])
    ws.append(["SX-2026-002", v.name[0], v.credit_code[0], "疏散通道堵塞", "一般隐患", dt.datetime(2026, 10, 12),
               "已销号", "3万元", "否", "√", "王五"])
    path = tmp_path / "企业自查隐患.xlsx"
    wb.save(path)
    rep = import_file(store, "hazards", path, today=TODAY)
    assert (rep.written, rep.quarantined) == (2, 0), rep.render()
    assert any("表头在第 3 行" in n["zh"] for n in rep.notes)
    assert any("in yuan" in n["en"] for n in rep.notes)
    got = store.read("hazards", ids=["SX-2026-001", "SX-2026-002"]).set_index("id")
    a, b = got.loc["SX-2026-001"], got.loc["SX-2026-002"]
    assert (a["target_layer"], a["target_id"]) == ("enterprises", e["id"][0])
    assert (b["target_layer"], b["target_id"]) == ("venues", v["id"][0])
    assert a["level"] == "major" and a["status"] == "rejected" and b["status"] == "closed"
    assert a["funds"] == pytest.approx(12.0) and b["funds"] == pytest.approx(3.0)
    assert bool(a["plan_in_place"]) and a["plan_ref"] == "《粉尘爆炸专项应急预案》" and not bool(b["plan_in_place"])
    assert bool(a["deadline_in_place"]) and a["deadline"] == pd.Timestamp("2026-09-30")  # a date for 时限到位
    assert b["checker"] == "王五" and a["found_date"] == pd.Timestamp("2026-07-06")
    assert (got["version"] == 0).all()
    log = store.read("audit_log", where={"action": "import"})
    assert set(log["record_id"]) == {"SX-2026-001", "SX-2026-002"}


def test_a_file_with_target_ids_also_starts_at_version_0_with_an_import_row(store, tmp_path):
    e = _objects(store, "enterprises", 1)
    path = tmp_path / "h.csv"
    _csv(path, [["编号", "对象类型", "对象编号", "隐患级别", "发现日期", "整改状态", "版本"],
                ["OWN-1", "enterprises", e["id"][0], "一般", "2026-11-02", "待整改", 7]], encoding="utf-8")
    rep = import_file(store, "hazards", path, today=TODAY)
    assert rep.written == 1 and any("version 0" in n["en"] for n in rep.notes)
    h = store.read("hazards", ids=["OWN-1"]).iloc[0]
    assert h["version"] == 0 and h["district_code"] == e["district_code"][0]
    log = store.read("audit_log", where={"record_id": "OWN-1"})
    assert log["action"].tolist() == ["import"] and log["note"].iloc[0].endswith("row 2)")


def test_a_hazard_file_naming_no_object_is_rejected_with_both_ways_to_name_it(store, tmp_path):
    path = tmp_path / "h.csv"
    _csv(path, [[TITLE], ["单位名称", "隐患级别", "排查日期", "整改状态"], ["某公司", "一般隐患", "2026-11-02", "待整改"]])
    before = (store.count("hazards"), store.count("audit_log"))
    with pytest.raises(ImportRejected) as exc:
        import_file(store, "hazards", path, today=TODAY)
    text = " ".join(i.reason_zh + " " + i.reason_en for i in exc.value.report.issues)
    assert "对象编号" in text and "统一社会信用代码" in text and "credit code column" in text
    assert (store.count("hazards"), store.count("audit_log")) == before


@pytest.mark.parametrize(("value", "yuan", "expect"), [
    ("5万元", False, 5.0), ("5万", False, 5.0), ("50000元", False, 5.0), ("８千元", False, 0.8),
    ("¥12,000", False, 1.2), ("5", False, 5.0), ("5", True, 0.0005), (120000.0, True, 12.0), (2.5, False, 2.5),
    ("三万元", False, None), ("已安排", False, None), (None, False, None),
])
def test_funds_are_read_in_10k_yuan(value, yuan, expect):
    got = hazard_files.funds_in_10k(value, yuan=yuan)
    assert got == (pytest.approx(expect) if expect is not None else None)


def test_a_funds_header_says_its_unit():
    assert hazard_files.header_is_yuan("整改资金（元）") and hazard_files.header_is_yuan("投入资金(元)")
    assert not hazard_files.header_is_yuan("整改资金（万元）") and not hazard_files.header_is_yuan("整改资金")
