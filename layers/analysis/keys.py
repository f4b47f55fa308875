"""Exact look-up of text keys at numpy speed: which row of a table each of millions of (layer, id) pairs names.

A hash table of Python strings (``pd.Index(ids).get_indexer``) costs about a microsecond per key on a shared
2-core machine: every key is a Python object to hash and compare. Here the keys are copied once into a
fixed-width numpy byte (or, when not ASCII, text) array, each gets a 64-bit hash of its characters by
vectorised arithmetic, the hashes are looked up in an integer hash table, and every match is then confirmed by
comparing the texts themselves, so a hash collision can never give a wrong row. ``benchmarks/bench_keys.py``
measures it against ``get_indexer``.

Texts compare as numpy compares fixed-width text: trailing NUL characters do not count ("E1\\x00" is "E1").
The importer strips them (with spaces) from both ends of every text, so no id in the store ends with one.

Query keys held in Arrow (pandas' ``str`` columns, as ``Store.read`` gives them) are copied into the
fixed-width array straight from Arrow's offsets and bytes, never made into Python strings (which cost as much
as all the rest of a look-up); a chunk that is not ASCII goes the object way.

Missing keys (None, NaN, NA) match nothing. Keys that are not all text (e.g. integers in an object column), and
keys so long that the fixed-width copies would be large, go the plain pandas way, with the same answers.

Knows nothing of enterprises or the store.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["KeyIndex", "is_arrow_text"]

#: rows converted and hashed at a time (bounds the fixed-width copies of a query)
CHUNK = 1 << 18
#: keys longer than this many bytes (4 per character when not ASCII) go the plain pandas way
MAX_BYTES = 256

_P = np.uint64(0x100000001B3)  # FNV-1a 64-bit prime
_SEED = np.uint64(0xCBF29CE484222325)  # FNV-1a 64-bit offset basis
_S29 = np.uint64(29)
_S33 = np.uint64(33)
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
#: how str() writes the missing values an object column may hold: rows with these texts are checked with isna
_MISSING_TEXTS = ("None", "nan", "<NA>", "NaT")


def _objects(values: Any) -> tuple[np.ndarray, bool]:
    """An object array of the values, and whether every present value is known to be a str."""
    if isinstance(values, pd.Series | pd.Index):
        return values.to_numpy(dtype=object), isinstance(values.dtype, pd.StringDtype)
    return np.asarray(values, dtype=object), False


def is_arrow_text(values: Any) -> bool:
    """Whether ``values`` is a pandas Series, Index or array of Arrow-backed text (pandas' ``str`` dtype with
    pyarrow storage, as ``Store.read`` gives text columns)."""
    return isinstance(values, pd.Series | pd.Index | pd.api.extensions.ExtensionArray) and \
        isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"


def _arrow_text(values: Any) -> Any:
    """The values as one Arrow (large) string array when they are Arrow-backed text (:func:`is_arrow_text`),
    else None. No copy for a column in one chunk."""
    if not is_arrow_text(values):
        return None
    import pyarrow as pa

    arr = pa.array(values if isinstance(values, pd.api.extensions.ExtensionArray) else values.array)  # (its own)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    return arr


def _fixed_arrow(arr: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """What :func:`_fixed` gives for kind ``"S"``, from an Arrow string array's buffers (no Python strings);
    None when a value is not ASCII (the caller goes the object way)."""
    import pyarrow as pa

    n = len(arr)
    if n == 0:
        return np.empty(0, dtype="S8"), np.zeros(0, dtype=bool)
    _, off_buf, data_buf = arr.buffers()
    off_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(off_buf, dtype=off_type, count=n + 1, offset=arr.offset * np.dtype(off_type).itemsize
                            ).astype(np.int64)
    first, last = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(data_buf, dtype=np.uint8)[first:last] if data_buf is not None and last > first else \
        np.empty(0, dtype=np.uint8)
    if len(data) and int(data.max()) >= 128:
        return None
    lengths = np.diff(offsets)
    longest = int(lengths.max())
    width = max(8, (longest + 7) // 8 * 8)
    out = np.zeros((n, width), dtype=np.uint8)
    if longest and (lengths == longest).all():  # every key as long (generated ids): the bytes as they lie
        out[:, :longest] = data.reshape(n, longest)
    elif len(data):
        row = np.repeat(np.arange(n), lengths)
        col = np.arange(len(data)) - np.repeat(offsets[:-1] - first, lengths)
        out[row, col] = data
    ok = arr.is_valid().to_numpy(zero_copy_only=False) if arr.null_count else np.ones(n, dtype=bool)
    return out.view(f"S{width}").ravel(), ok


def _is_text(arr: np.ndarray, known: bool) -> bool:
    return known or len(arr) == 0 or pd.api.types.infer_dtype(arr, skipna=True) in ("string", "empty")


def _pad8(a: np.ndarray) -> np.ndarray:
    """The same texts in an array whose item size is a multiple of 8 bytes (so items read as 64-bit words)."""
    size = a.dtype.itemsize
    if size % 8 == 0:
        return a
    per = 1 if a.dtype.kind == "S" else 4
    return a.astype(f"{a.dtype.kind}{(size + 7) // 8 * 8 // per}")


def _fixed(arr: np.ndarray, kind: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-width copy of an object array of str (missing values included), and the rows that can match.

    ``kind`` ``"S"``: bytes, and rows that are not ASCII cannot match (the keys are all ASCII); ``"U"``: text;
    ``None``: bytes when every value is ASCII, else text."""
    if len(arr) == 0:
        return np.empty(0, dtype="S8"), np.zeros(0, dtype=bool)
    ok = np.ones(len(arr), dtype=bool)
    if kind == "U":
        fixed = arr.astype("U")
    else:
        try:
            fixed = arr.astype("S")
        except UnicodeEncodeError:
            if kind is None:
                fixed = arr.astype("U")
            else:
                u = arr.astype("U")
                ok = (u.view(np.uint32).reshape(len(u), -1) < 128).all(axis=1)
                fixed = np.where(ok, u, "").astype("S")
    length = np.strings.str_len(fixed)
    short = np.flatnonzero((length >= 3) & (length <= 4))  # the lengths of the missing texts: few rows to check
    if len(short):
        cand = fixed[short]
        maybe = np.zeros(len(short), dtype=bool)
        for text in _MISSING_TEXTS:
            maybe |= cand == (text.encode() if fixed.dtype.kind == "S" else text)
        rows = short[maybe]
        ok[rows[pd.isna(arr[rows])]] = False
    return _pad8(fixed), ok


def _hash(fixed: np.ndarray, group: np.ndarray | None) -> np.ndarray:
    """64-bit hash of each row's text (and group code), the same whatever the array's width: an all-zero word,
    which is only ever padding at the end, leaves the hash as it is."""
    n = len(fixed)
    h = np.full(n, _SEED, dtype=np.uint64)
    if group is not None:
        h = (h ^ group.astype(np.uint64)) * _P
    words = fixed.view(np.uint64).reshape(n, -1) if n else np.empty((0, 1), np.uint64)
    for j in range(words.shape[1]):
        v = words[:, j]
        mixed = (h ^ v) * _P
        mixed ^= mixed >> _S29
        h = mixed if j == 0 else np.where(v != 0, mixed, h)
    # the finaliser of MurmurHash3 (fmix64): every input bit reaches the low bits the hash table slots on
    h ^= h >> _S33
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    h ^= h >> _S33
    return h.view(np.int64)


class _HashTable:
    """First position of each of a set of int64 hashes: a direct table on the hash's low bits (eight slots a
    key, so one random read answers almost every look-up), and a pandas index for the keys whose slot another
    key took first. ``repeats``: the positions whose hash an earlier position has already."""

    def __init__(self, hashes: np.ndarray) -> None:
        n = len(hashes)
        bits = max(10, int(np.ceil(np.log2(max(n, 1)))) + 3)
        self._mask = np.int64((1 << bits) - 1)
        self._hashes = hashes
        slot = hashes & self._mask
        self._table = np.full(1 << bits, -1, dtype=np.int32 if n < 2**31 - 1 else np.int64)
        order = np.arange(n - 1, -1, -1)
        self._table[slot[order]] = order  # the last write wins: the first key of each slot
        over = np.flatnonzero(self._table[slot] != np.arange(n))
        h_over = hashes[over]
        repeat = (h_over == hashes[self._table[slot[over]]]) | pd.Index(h_over).duplicated(keep="first")
        self.repeats = over[repeat]
        keep = over[~repeat]
        self._shared = np.zeros(1 << bits, dtype=bool)
        self._shared[slot[keep]] = True
        self._over = (pd.Index(hashes[keep]), keep)

    def find(self, q: np.ndarray) -> np.ndarray:
        """First position of each hash in ``q``, -1 for none."""
        if len(self._hashes) == 0:
            return np.full(len(q), -1, dtype=np.int64)
        slot = q & self._mask
        pos = self._table[slot].astype(np.int64)
        pos[(pos >= 0) & (self._hashes[np.maximum(pos, 0)] != q)] = -1
        more = np.flatnonzero((pos < 0) & self._shared[slot])
        if len(more):
            index, rows = self._over
            p = index.get_indexer(q[more])
            pos[more] = np.where(p >= 0, rows[np.maximum(p, 0)], -1)
        return pos


class KeyIndex:
    """The rows of a table's keys (a text column, and optionally a group column such as the layer), to look
    many keys up at once.

    >>> idx = KeyIndex(["E1", "V1"], groups=["enterprises", "venues"])
    >>> idx.get(["V1", "E1", "V1"], groups=["venues", "venues", None]).tolist()
    [1, -1, -1]

    When a key occurs more than once, its first row answers. The groups (a handful of distinct values) are
    factorized (or given as a ``pd.Categorical``), and their codes go into the hash.
    """

    def __init__(self, keys: Any, *, groups: Any = None) -> None:
        text = _arrow_text(keys)
        got = _fixed_arrow(text) if text is not None else None  # (None: not Arrow text, or not ASCII)
        arr, known = (None, True) if got is not None else _objects(keys)
        self.n = len(text) if got is not None else len(arr)
        self._keys = arr if got is None else keys  # (made object values only if the plain way is ever asked)
        self._grouped = groups is not None
        self._garr: np.ndarray | None = None
        self._groups: np.ndarray | None = None  # group codes (when they are part of the hash or the plain way)
        self._vocab: dict[Any, int] = {}
        self._pandas: tuple[pd.Index, np.ndarray] | None = None
        self._fast = False
        if isinstance(groups, pd.Categorical):  # codes given: nothing to factorize
            self._groups = np.asarray(groups.codes, dtype=np.int64)
            self._vocab = {u: i for i, u in enumerate(groups.categories)}
        elif groups is not None:
            self._garr, _ = _objects(groups)
        if self._grouped and len(groups) != self.n:
            raise ValueError("keys and groups differ in length")
        if self.n == 0 or (got is None and not _is_text(arr, known)):
            return
        fixed, ok = got if got is not None else _fixed(arr, None)
        if fixed.dtype.itemsize > MAX_BYTES:
            return
        if self._grouped:
            self._use_codes()
            ok &= self._groups >= 0
        rows = np.flatnonzero(ok)
        h = _hash(fixed[rows], None if self._groups is None else self._groups[rows])
        table = _HashTable(h)
        if len(table.repeats):  # a key repeated (its first row answers), or (rarely) two keys with one hash
            at = rows[table.find(h[table.repeats])]
            again = rows[table.repeats]
            same = fixed[again] == fixed[at]
            if self._groups is not None:
                same &= self._groups[again] == self._groups[at]
            if not same.all():
                return
        self._rows = rows
        self._table = table
        self._fixed = fixed
        self._fast = True

    def _use_codes(self) -> None:
        if self._groups is not None:
            return
        codes, uniq = pd.factorize(self._garr)
        self._groups = codes
        self._vocab = {u: i for i, u in enumerate(uniq)}

    def _query_codes(self, garr: Any) -> np.ndarray:
        codes, uniq = pd.factorize(garr)  # (a Series as it is: Arrow text is factorized by Arrow)
        table = np.array([self._vocab.get(u, -1) for u in uniq] + [-1], dtype=np.int64)
        return table[codes]

    def get(self, keys: Any, *, groups: Any = None) -> np.ndarray:
        """Row of each key (int64), -1 where there is no such key or it (or its group) is missing."""
        if (groups is None) == self._grouped:
            raise ValueError("give groups to get() exactly when the index was built with them")
        text = _arrow_text(keys) if self._fast and self._fixed.dtype.kind == "S" else None
        arr, known = (None, True) if text is not None else _objects(keys)
        m = len(text) if text is not None else len(arr)
        out = np.full(m, -1, dtype=np.int64)
        garr = None
        if groups is not None:
            # (an Arrow-backed Series stays one: factorized as it is, never made into Python strings)
            garr = groups if _arrow_text(groups) is not None else _objects(groups)[0]
            if len(garr) != m:
                raise ValueError("keys and groups differ in length")
        if m == 0 or self.n == 0:
            return out
        if text is None and not (self._fast and _is_text(arr, known)):
            return self._get_pandas(arr, garr if garr is None or isinstance(garr, np.ndarray) else
                                    _objects(garr)[0], out)
        qcodes = self._query_codes(garr) if self._groups is not None else None
        kind = self._fixed.dtype.kind
        for start in range(0, m, CHUNK):
            stop = min(start + CHUNK, m)
            got = _fixed_arrow(text.slice(start, stop - start)) if text is not None else None
            if got is None:  # object values, or an Arrow chunk that is not ASCII
                chunk = arr[start:stop] if arr is not None else \
                    np.asarray(text.slice(start, stop - start).to_numpy(zero_copy_only=False), dtype=object)
                got = _fixed(chunk, kind)
            fixed, ok = got
            if fixed.dtype.itemsize > self._fixed.dtype.itemsize:  # longer than every key: those cannot match
                long = np.char.str_len(fixed) > self._fixed.dtype.itemsize // (1 if kind == "S" else 4)
                ok &= ~long
                fixed = np.where(long, fixed[:0].dtype.type(), fixed).astype(self._fixed.dtype)
            g = None
            if qcodes is not None:
                g = qcodes[start:stop]
                ok &= g >= 0
            pos = self._table.find(_hash(fixed, g))
            hit = np.flatnonzero((pos >= 0) & ok)
            rows = self._rows[pos[hit]]
            same = fixed[hit] == self._fixed[rows]
            if g is not None:
                same &= g[hit] == self._groups[rows]
            out[start + hit[same]] = rows[same]
        return out

    def _get_pandas(self, arr: np.ndarray, garr: np.ndarray | None, out: np.ndarray) -> np.ndarray:
        """The plain way: a pandas index of the Python objects (with the group code alongside)."""
        if garr is not None:
            self._use_codes()  # (the index was built from keys that are not all text)
        if self._pandas is None:
            if not isinstance(self._keys, np.ndarray):
                self._keys = _objects(self._keys)[0] if isinstance(self._keys, pd.Series | pd.Index) else \
                    np.asarray(self._keys, dtype=object)
            ok = ~pd.isna(self._keys)
            if self._groups is not None:
                ok &= self._groups >= 0
            rows = np.flatnonzero(ok)
            keys = self._keys[rows] if self._groups is None else \
                pd.MultiIndex.from_arrays([self._groups[rows], self._keys[rows]]).to_flat_index()
            idx = pd.Index(keys, dtype=object)
            first = ~idx.duplicated(keep="first")
            self._pandas = (idx[first], rows[first])
        idx, rows = self._pandas
        ok = ~pd.isna(arr)
        qcodes = None
        if garr is not None:
            qcodes = self._query_codes(garr)
            ok &= qcodes >= 0
        q = arr if qcodes is None else pd.MultiIndex.from_arrays([qcodes, arr]).to_flat_index()
        pos = idx.get_indexer(pd.Index(q, dtype=object))
        hit = np.flatnonzero((pos >= 0) & ok)
        out[hit] = rows[pos[hit]]
        return out

