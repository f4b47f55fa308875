"""KeyIndex: the fast (hashed fixed-width) look-up answers exactly as a plain dict of Python strings would."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layers.analysis import keys
from layers.analysis.keys import KeyIndex


def _expected(key_ids, key_groups, q_ids, q_groups):
    """The plain answer: the first row of each (group, id); -1 for none or a missing part."""
    first: dict = {}
    for i, (g, k) in enumerate(zip(key_groups, key_ids, strict=True)):
        if pd.isna(g) or pd.isna(k):
            continue
        first.setdefault((g, k.rstrip("\x00")), i)  # trailing NUL characters do not count
    return [(-1 if pd.isna(g) or pd.isna(k) else first.get((g, k.rstrip("\x00")), -1))
            for g, k in zip(q_groups, q_ids, strict=True)]


def test_layers_ids_missing_values_repeats_and_strings_that_look_missing():
    ids = np.array(["E1", "E2", "V1", "E1", None, "None", "nan", "", "E2"], dtype=object)
    groups = np.array(["enterprises", "enterprises", "venues", "enterprises", "venues", "venues", "venues",
                       "venues", None], dtype=object)
    q_ids = ["E1", "E2", "V1", "V1", None, "None", "nan", "", "E2", "E3", "E1"]
    q_groups = ["enterprises", "enterprises", "venues", "enterprises", "venues", "venues", "venues", "venues",
                None, "enterprises", "bridges"]
    idx = KeyIndex(ids, groups=groups)
    assert idx.get(q_ids, groups=q_groups).tolist() == [0, 1, 2, -1, -1, 5, 6, 7, -1, -1, -1]
    assert idx._fast  # the fast way answered


def test_pandas_string_columns_and_nan_as_missing():
    frame = pd.DataFrame({"id": ["A", None, "C"], "layer": ["x", "x", None]})
    assert str(frame["id"].dtype) == "str"  # pandas 3: missing is NaN in a str column
    idx = KeyIndex(frame["id"], groups=frame["layer"])
    q = pd.DataFrame({"id": ["C", "A", None, "A"], "layer": [None, "x", "x", "y"]})
    assert idx.get(q["id"], groups=q["layer"]).tolist() == [-1, 0, -1, -1]


def test_groups_given_as_a_categorical():
    groups = pd.Categorical.from_codes([0, 0, 1, 1, -1], ["enterprises", "venues"])
    idx = KeyIndex(["E1", "E2", "V1", "E1", "X"], groups=groups)
    q_groups = ["venues", "enterprises", "venues", None, "enterprises", "bridges"]
    assert idx.get(["E1", "E1", "V1", "E1", "X", "E1"], groups=q_groups).tolist() == [3, 0, 2, -1, -1, -1]
    # the plain way (keys not all text) answers the same
    idx = KeyIndex(np.array([1, "E2", "V1", "E1", "X"], dtype=object), groups=groups)
    assert not idx._fast
    assert idx.get(["E1", "E2", "V1", "E1", "X", "E1"], groups=q_groups).tolist() == [3, 1, 2, -1, -1, -1]


def test_non_ascii_keys_and_queries():
    idx = KeyIndex(["甲-1", "乙-2", "E3"], groups=["enterprises"] * 3)
    assert idx._fast and idx._fixed.dtype.kind == "U"
    assert idx.get(["乙-2", "E3", "丙"], groups=["enterprises"] * 3).tolist() == [1, 2, -1]
    ascii_idx = KeyIndex(["E1", "E2"])
    assert ascii_idx._fixed.dtype.kind == "S"
    # a query chunk with non-ASCII text still finds the ASCII keys in it
    assert ascii_idx.get(["中文", "E2", "E1é", "E1"]).tolist() == [-1, 1, -1, 0]


def test_queries_longer_than_every_key_and_widths_that_differ():
    idx = KeyIndex(["A", "BB", "CCCCCCCCC"])  # 9 bytes: padded to 16
    q = ["CCCCCCCCC", "A", "A" * 40, "BB", "CCCCCCCC"]
    assert idx.get(q).tolist() == [2, 0, -1, 1, -1]


def test_trailing_nul_characters_do_not_count():
    # as numpy compares fixed-width text (the importer strips them from every text anyway)
    idx = KeyIndex(["a", "b", "c\x00"])
    assert idx._fast
    assert idx.get(["a\x00", "a", "b\x00\x00", "a\x00b", "c"]).tolist() == [0, 0, 1, -1, 2]


def test_not_text_goes_the_plain_way_with_the_same_answer():
    idx = KeyIndex(np.array([1, 2, "3"], dtype=object))
    assert not idx._fast
    assert idx.get(np.array([2, "2", "3", 1], dtype=object)).tolist() == [1, -1, 2, 0]
    long_keys = ["x" * 300, "y"]
    idx = KeyIndex(long_keys)
    assert not idx._fast
    assert idx.get(["y", "x" * 300, "x"]).tolist() == [1, 0, -1]


def test_a_hash_collision_between_two_keys_falls_back_and_stays_exact(monkeypatch):
    monkeypatch.setattr(keys, "_hash", lambda fixed, group: np.zeros(len(fixed), dtype=np.int64))
    idx = KeyIndex(["A", "B", "A"], groups=["g", "g", "g"])
    assert not idx._fast
    assert idx.get(["B", "A", "C"], groups=["g", "g", "g"]).tolist() == [1, 0, -1]


def test_collisions_in_queries_are_caught_by_the_text_check(monkeypatch):
    idx = KeyIndex(["A", "B"])
    assert idx._fast
    # every query hashes like key "A": only the real "A" may match
    monkeypatch.setattr(keys, "_hash", lambda fixed, group: np.full(len(fixed), idx._table._hashes[0], dtype=np.int64))
    assert idx.get(["A", "B", "Z"]).tolist() == [0, -1, -1]


def test_chunks(monkeypatch):
    monkeypatch.setattr(keys, "CHUNK", 3)
    ids = [f"K{i}" for i in range(20)]
    idx = KeyIndex(ids)
    q = [f"K{i}" for i in range(25)][::-1]
    assert idx.get(q).tolist() == [ids.index(k) if k in ids else -1 for k in q]


def test_argument_errors():
    with pytest.raises(ValueError):
        KeyIndex(["a"], groups=["g", "h"])
    with pytest.raises(ValueError):
        KeyIndex(["a"]).get(["a"], groups=["g"])
    assert KeyIndex([]).get(["a"]).tolist() == [-1]
    assert KeyIndex(["a"]).get([]).tolist() == []


_text = st.one_of(st.none(), st.text(alphabet="ab中\x00\x01 ", max_size=4), st.sampled_from(["None", "nan", ""]))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["enterprises", "venues", None]), _text), max_size=30),
       st.lists(st.tuples(st.sampled_from(["enterprises", "venues", "bridges", None]), _text), max_size=30))
def test_same_answer_as_a_dict(key_rows, query_rows):
    kg = np.array([g for g, _ in key_rows], dtype=object)
    kk = np.array([k for _, k in key_rows], dtype=object)
    qg = np.array([g for g, _ in query_rows], dtype=object)
    qk = np.array([k for _, k in query_rows], dtype=object)
    got = KeyIndex(kk, groups=kg).get(qk, groups=qg).tolist()
    assert got == _expected(kk, kg, qk, qg)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["enterprises", "venues", None]), _text), max_size=30),
       st.lists(st.tuples(st.sampled_from(["enterprises", "venues", "bridges", None]), _text), max_size=30),
       st.sampled_from([2, 5, 1 << 18]))
def test_arrow_text_columns_answer_as_a_dict(key_rows, query_rows, chunk):
    """Keys and queries in pandas' Arrow-backed str columns (as the store reads them) are copied from Arrow's
    buffers, never made into Python strings; chunks (sliced Arrow arrays) that are not ASCII go the object way.
    The answers are the dict's, whichever way each chunk went."""
    kg = pd.Series([g for g, _ in key_rows], dtype="str")
    kk = pd.Series([k for _, k in key_rows], dtype="str")
    qg = pd.Series([g for g, _ in query_rows], dtype="str")
    qk = pd.Series([k for _, k in query_rows], dtype="str")
    keys.CHUNK, old = chunk, keys.CHUNK
    try:
        for key_ids in (kk, kk.array):   # a Series, or a column's array as the coverage objects hold it
            got = KeyIndex(key_ids, groups=kg).get(qk, groups=qg).tolist()
            assert got == _expected(kk.to_numpy(dtype=object), kg.to_numpy(dtype=object),
                                    qk.to_numpy(dtype=object), qg.to_numpy(dtype=object))
    finally:
        keys.CHUNK = old


def test_arrow_fixed_width_copy_matches_numpy():
    """The fixed-width bytes built from Arrow's offsets equal numpy's own copy of the same texts: equal
    lengths (read as they lie), different lengths, empty text, missing values, an offset slice."""
    s = pd.Series(["E0001", "E0002", "E0003", "E0004"], dtype="str")
    mixed = pd.Series(["ab", None, "", "abcdefghij", "x\x00y"], dtype="str")
    for series in (s, mixed, mixed.iloc[1:4].reset_index(drop=True)):
        arr = keys._arrow_text(series)
        fixed, ok = keys._fixed_arrow(arr)
        expect = series.to_numpy(dtype=object)
        assert ok.tolist() == [not pd.isna(v) for v in expect]
        assert [f for f, good in zip(fixed.tolist(), ok, strict=True) if good] == \
            [v.encode() for v in expect if not pd.isna(v)]
        assert fixed.dtype.itemsize % 8 == 0
    assert keys._fixed_arrow(keys._arrow_text(pd.Series(["中"], dtype="str"))) is None  # not ASCII: object way
    sliced = keys._arrow_text(mixed).slice(2, 2)
    assert keys._fixed_arrow(sliced)[0].tolist() == [b"", b"abcdefghij"]
