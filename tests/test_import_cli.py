"""``python -m layers import``: exit codes, printed and JSON reports, a store created when missing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from layers import credit_code
from layers.cli import main
from layers.store import open_store

ROOT = Path(__file__).parents[1]


def _csv(tmp_path: Path, **over) -> Path:
    df = pd.DataFrame({"编号": ["A1", "A2"], "名称": ["甲", "乙"], "统一社会信用代码": credit_code.make_many(2, seed=1),
                       "行业": ["工贸", "工贸"], "风险等级": ["低", "重大"], "经度": [114.25, 114.26], "纬度": [30.6, 30.6]})
    for k, v in over.items():
        df[k] = v
    f = tmp_path / "企业.csv"
    df.to_csv(f, index=False, encoding="gbk")
    return f


def test_cli_import_writes_and_reports(tmp_path, capsys):
    store = tmp_path / "new.gpkg"
    report = tmp_path / "report.json"
    f = _csv(tmp_path, 风险等级=["低", "紫色"])
    code = main(["import", "enterprises", str(f), "--store", str(store), "--crs", "gcj02", "--report", str(report)])
    assert code == 0
    out = capsys.readouterr().out
    assert "导入成功" in out and "import written" in out and "隔离 1" in out and "quarantined 1" in out
    assert "行 3" in out and "紫色" in out
    data = json.loads(report.read_text(encoding="utf-8"))
    assert (data["read"], data["written"], data["quarantined"], data["rejected"]) == (2, 1, 1, 0)
    assert data["encoding"] == "gbk" and data["source_crs"] == "gcj02"
    assert data["issues"][0]["row"] == 3 and data["issues"][0]["outcome"] == "quarantined"
    assert open_store(store, create=False).count("enterprises") == 1


def test_cli_rejected_batch_exits_non_zero_and_writes_nothing(tmp_path, capsys):
    store = tmp_path / "city.gpkg"
    f = _csv(tmp_path, 编号=["A1", "A1"])
    report = tmp_path / "r.json"
    code = main(["import", "enterprises", str(f), "--store", str(store), "--crs", "wgs84", "--report", str(report)])
    assert code == 1
    out = capsys.readouterr().out
    assert "被拒绝" in out and "rejected" in out and "duplicated in the file" in out
    s = open_store(store, create=False)
    assert s.count("enterprises") == 0 and s.data_version() == 0 and len(s.imports()) == 0
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["status"] == "rejected" and data["written"] == 0 and data["rejected"] == 2


def test_cli_replace(tmp_path, capsys):
    store = tmp_path / "city.gpkg"
    f = _csv(tmp_path)
    assert main(["import", "enterprises", str(f), "--store", str(store), "--crs", "wgs84"]) == 0
    assert main(["import", "enterprises", str(f), "--store", str(store), "--crs", "wgs84"]) == 1  # ids exist
    assert main(["import", "enterprises", str(f), "--store", str(store), "--crs", "wgs84", "--replace"]) == 0
    assert open_store(store).count("enterprises") == 2
    capsys.readouterr()


def test_cli_as_a_process(tmp_path):
    f = _csv(tmp_path)
    res = subprocess.run([sys.executable, "-m", "layers", "import", "enterprises", str(f), "--store",
                          str(tmp_path / "c.gpkg")], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 1  # no --crs for a CSV
    assert "--crs" in res.stdout and "没有声明坐标系" in res.stdout
