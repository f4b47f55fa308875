"""Writing the coverage export: the Arrow-built CSV is byte for byte what pandas' ``to_csv`` wrote before, text
that a spreadsheet would run stays text, the progress covers the write and says done once the file is in place, a
failed write leaves no file, and an .xlsx too big for Excel is refused before anything is written."""

from __future__ import annotations

import io
import sys
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from layers import export
from layers.cli import main
from layers.export import (
    TooBigForExcel,
    check_xlsx_size,
    safe_text,
    write_any,
    write_csv,
    write_gpkg,
    write_xlsx,
)

AS_OF = "2026-06-30"
TRICKY = ["plain", "a,b", 'say "hi"', "two\nlines", "cr\rin", "\tlead tab", "\rlead cr", "=1+2", "+SUM(A1)",
          "-3", "@cmd", " spaced", "", None, "中文，逗号", "'quoted already", "tail,", '"', "x" * 300]


def _old_csv(frame: pd.DataFrame, path: Path) -> bytes:
    """What ``write_csv`` wrote before (pandas' ``to_csv`` of the neutralised frame)."""
    out = export._plain(frame)
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(safe_text)
    out.to_csv(path, index=False, encoding="utf-8-sig")
    return path.read_bytes()


def _old_any_csv(sheets: dict[str, pd.DataFrame], path: Path) -> bytes:
    """What ``write_any`` wrote to .csv before: one frame, or the sheets concatenated with a ``sheet`` column."""
    frames = [(export._whole_numbers(export._plain(f)).assign(sheet=name) if len(sheets) > 1 else f)
              for name, f in sheets.items()]
    return _old_csv(pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0], path)


def _mixed_frame(n: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(5)
    floats = rng.random(n) * 10.0 ** rng.integers(-7, 18, n)
    floats[::11] = np.nan
    floats[:12] = [0.0, -0.0, 1e-4, 9.999999999999999e-05, 1e15, 1e16, 5e-324, np.inf, -np.inf, 0.1, 100.0, 18.0]
    text = [TRICKY[i % len(TRICKY)] for i in range(n)]
    return gpd.GeoDataFrame({
        "名称": pd.Series(text, dtype=object),
        "code": pd.Series(text, dtype="str"),
        "score": floats,
        "lon": np.round(114 + rng.random(n), 6),
        "f32": (rng.random(n) * 10.0 ** rng.integers(-6, 9, n)).astype(np.float32),
        "days": rng.integers(-5, 5000, n),
        "count": pd.array([None if i % 7 == 0 else i for i in range(n)], dtype="Int64"),
        "flag": rng.random(n) > 0.5,
        "day": pd.to_datetime("2026-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D"),
        "mixed": pd.Series([[1, "=x", 2.5, None, True, -4][i % 6] for i in range(n)], dtype=object),
        "half": pd.array([True, None] * (n // 2) + [False] * (n % 2), dtype="boolean"),
    }, geometry=[shapely.Point(114 + i / n, 30.5) if i % 5 else None for i in range(n)], crs=4326)


def test_csv_is_byte_for_byte_what_pandas_wrote(tmp_path: Path, monkeypatch):
    frame = _mixed_frame(503)
    monkeypatch.setattr(export, "_CSV_CHUNK_ROWS", 64)   # several chunks, the last one short
    ours = write_csv(frame, tmp_path / "ours.csv").read_bytes()
    assert ours == _old_csv(frame, tmp_path / "old.csv")
    assert ours.startswith("\ufeff".encode())


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"only": ["a", "", None, "b,c"]}),                      # one column: an empty row is written ""
    pd.DataFrame({"a": pd.Series([], dtype=object), "b": pd.Series([], dtype=float)}),
    pd.DataFrame({"x,y": [1, 2], 'say "q"': [1.5, np.nan], "=head": ["=v", "w"]}),
    pd.DataFrame({"all_none": [None, None], "all_nan": [np.nan, np.nan]}),
])
def test_csv_edge_frames_match_pandas(frame: pd.DataFrame, tmp_path: Path):
    assert write_csv(frame, tmp_path / "ours.csv").read_bytes() == _old_csv(frame, tmp_path / "old.csv")


def test_several_sheets_match_the_old_concatenation(tmp_path: Path, monkeypatch):
    """Columns missing from some sheets, an integer column in one sheet that is float in another, booleans: as
    ``pd.concat`` of the sheets would have been written."""
    monkeypatch.setattr(export, "_CSV_CHUNK_ROWS", 50)
    sheets = {
        "死角": _mixed_frame(120),
        "盲区": pd.DataFrame({"cell": ["8a", "8b"], "risk": [2.0, 3.5], "days": [1.5, 2.0], "flag": [True, False]}),
        "分区县": pd.DataFrame({"名称": ["甲区", "+乙区"], "objects": [366, 12], "share": [0.25, None]}),
        "empty": pd.DataFrame({"objects": pd.Series([], dtype="int64")}),
    }
    ours = write_any(sheets, tmp_path / "ours.csv").read_bytes()
    assert ours == _old_any_csv(sheets, tmp_path / "old.csv")


def test_the_small_demo_city_exports_as_before(demo_store_path: Path, tmp_path: Path):
    """The CLI's CSV of the demo city, in both languages, is what pandas wrote of the same sheets."""
    from layers.analysis import coverage
    from layers.settings import Settings
    from layers.store import open_store

    store = open_store(demo_store_path, create=False)
    result = coverage.compute(store, as_of=date.fromisoformat(AS_OF),
                              settings=Settings.from_env(store=str(demo_store_path)))
    for lang in ("zh", "en"):
        out = tmp_path / f"gaps-{lang}.csv"
        assert main(["coverage", "--store", str(demo_store_path), "--as-of", AS_OF, "--out", str(out),
                     "--lang", lang]) == 0
        assert out.read_bytes() == _old_any_csv(result.sheets(lang), tmp_path / f"old-{lang}.csv")
        assert len(out.read_bytes()) > 10_000


def test_formula_like_text_stays_text(tmp_path: Path):
    starts = ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "safe", "a=b"]
    frame = pd.DataFrame({"object": pd.Series(starts, dtype=object), "arrow": pd.Series(starts, dtype="str"),
                          "n": [-i for i in range(len(starts))]})
    path = write_csv(frame, tmp_path / "f.csv")
    # read by lines of "\n": a lone CR in a field is written unquoted, as pandas' to_csv writes it
    lines = path.read_bytes().decode("utf-8-sig").split("\n")
    assert lines[0] == "object,arrow,n" and lines[-1] == ""
    rows = [line.split(",") for line in lines[1:-1]]
    want = ["'" + s if s[0] in "=+-@\t\r" else s for s in starts]
    assert [r[0] for r in rows] == want and [r[1] for r in rows] == want
    assert [r[2] for r in rows] == [str(-i) for i in range(len(starts))]   # numbers are not text: -1 stays


class _Recorder(io.StringIO):
    """stderr that remembers, for each line written, whether the output file existed at that moment."""

    def __init__(self, out: Path):
        super().__init__()
        self.out, self.seen = out, []

    def write(self, text: str) -> int:
        if text.strip():
            self.seen.append((text.strip(), self.out.exists()))
        return super().write(text)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".gpkg"])
def test_progress_covers_the_write_and_says_done_when_the_file_is_there(demo_store_path: Path, tmp_path: Path,
                                                                         monkeypatch, suffix: str):
    out = tmp_path / f"gaps{suffix}"
    rec = _Recorder(out)
    monkeypatch.setattr(sys, "stderr", rec)
    assert main(["coverage", "--store", str(demo_store_path), "--as-of", AS_OF, "--out", str(out)]) == 0
    bar = [(line, there) for line, there in rec.seen if line.startswith("[")]
    writing = [i for i, (line, _) in enumerate(bar) if "行 (writing rows)" in line]
    done = [i for i, (line, _) in enumerate(bar) if "完成" in line and "(done" in line]
    assert writing and done == [len(bar) - 1]                 # one "done", the last line, after the rows
    assert all(i < done[0] for i in writing)
    assert bar[-1][1] and "100.0%" in bar[-1][0]              # the file was there when done was said
    assert not any(there for _, there in bar[:-1])            # and not before: it is written aside, then renamed
    assert all("100.0%" not in line for line, _ in bar[:-1])
    computed = [line for line, _ in bar if "(gaps computed)" in line]
    assert computed and "100.0%" not in computed[0]            # the computation's end is not the run's end
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def _breaks_late(n: int) -> pd.DataFrame:
    """A frame whose last row cannot be encoded (a lone surrogate): every writer fails after the first rows."""
    names = [f"name {i}" for i in range(n)]
    names[-1] = "bad \ud800"
    return pd.DataFrame({"name": pd.Series(names, dtype=object), "n": range(n)})


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".gpkg"])
def test_a_failed_write_leaves_no_file_and_the_old_one_as_it_was(tmp_path: Path, monkeypatch, suffix: str):
    monkeypatch.setattr(export, "_CSV_CHUNK_ROWS", 100)
    path = tmp_path / f"gaps{suffix}"
    path.write_bytes(b"the previous export")
    told = []
    with pytest.raises((UnicodeError, ValueError, RuntimeError, OSError)):
        write_any({"sheet": _breaks_late(1000)}, path, progress=lambda done, total: told.append(done))
    assert path.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    if suffix == ".csv":
        assert told and told[-1] < 1000       # it had written rows when it failed


def test_a_failed_write_leaves_no_new_file(tmp_path: Path):
    with pytest.raises((UnicodeError, ValueError)):
        write_csv(_breaks_late(10), tmp_path / "new.csv")
    assert list(tmp_path.iterdir()) == []


def test_xlsx_over_the_limit_is_refused_before_writing(tmp_path: Path):
    frame = pd.DataFrame({"a": range(11)})
    with pytest.raises(TooBigForExcel) as err:
        write_xlsx({"死角": frame, "other": frame.head(2)}, tmp_path / "x.xlsx", limit=10)
    text = str(err.value)
    assert "'死角'" in text and "11" in text and "10" in text
    assert ".csv" in text and ".gpkg" in text and "请改用" in text and "instead" in text
    assert list(tmp_path.iterdir()) == []
    check_xlsx_size({"a": frame}, limit=11)                       # at the limit: fine
    full = pd.DataFrame({"a": np.zeros(export.XLSX_ROW_LIMIT)})   # one row more than a sheet holds under its header
    with pytest.raises(TooBigForExcel):                           # never more than Excel holds, whatever the limit
        check_xlsx_size({"a": full}, limit=export.XLSX_ROW_LIMIT + 5)


def test_cli_refuses_a_big_xlsx_and_names_csv_and_gpkg(demo_store_path: Path, tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setattr(export, "XLSX_COMFORTABLE_ROWS", 5)   # the demo city's dead corners are more than 5
    out = tmp_path / "gaps.xlsx"
    assert main(["coverage", "--store", str(demo_store_path), "--as-of", AS_OF, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "超过 Excel 导出上限" in err and ".csv" in err and ".gpkg" in err and "write .csv or .gpkg" in err
    assert "完成" not in err
    assert list(tmp_path.iterdir()) == []


def test_cli_says_when_the_folder_is_missing(demo_store_path: Path, tmp_path: Path, capsys):
    out = tmp_path / "missing" / "gaps.csv"
    assert main(["coverage", "--store", str(demo_store_path), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "目录不存在" in err and "no such folder" in err
    assert "读取数据" not in err       # said before the store is read


def test_gpkg_is_replaced_whole(tmp_path: Path):
    """A GeoPackage written over an older one holds only the new layers."""
    path = tmp_path / "g.gpkg"
    pts = gpd.GeoDataFrame({"id": ["a"]}, geometry=[shapely.Point(114.3, 30.6)], crs=4326)
    write_gpkg({"old": pts}, path)
    write_gpkg({"new": pts, "table": pd.DataFrame({"n": [1, 2]})}, path)
    import pyogrio

    assert [name for name, _ in pyogrio.list_layers(path)] == ["new", "table"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.gpkg"]
