"""Unified social credit code (统一社会信用代码), GB 32100-2015.

18 characters from the 31-character set ``0-9 A-H J-N P-R T U W-Y`` (no I, O, Z, S, V):

- 1: registration authority (登记管理部门码), 2: organisation category (机构类别码),
- 3-8: administrative division code of the registering authority (登记管理机关行政区划码),
- 9-17: organisation code (主体标识码, GB 11714, itself with a check character at position 17),
- 18: check character: ``C18 = 31 - (sum(value(Ci) * 3**(i-1) mod 31) mod 31)``, 31 -> 0.

:func:`is_valid` checks the character set and the GB 32100 check character (what the standard defines for
the whole code). :func:`valid_mask` does the same for a whole column at once with numpy. :func:`make` and
:func:`make_many` generate valid codes (with a valid GB 11714 organisation code inside) for the demo city.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

import numpy as np
import pandas as pd

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(CHARSET)}
WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)  # 1, 3, 9, 27, 19, 26, ...

_LUT = np.full(256, -1, dtype=np.int64)
for _c, _v in _VALUE.items():
    _LUT[ord(_c)] = _v

# GB 11714 organisation code: 8 characters (digits/upper letters) + check character
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: common first two characters: 91 enterprise (工商), 92 individual business, 93 farmers' co-op, 12 public institution
_PREFIXES = ("91", "91", "91", "91", "92", "93", "12", "52")


def check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters (which must be in :data:`CHARSET`)."""
    total = sum(_VALUE[c] * int(w) for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def is_valid(code: object) -> bool:
    """True when ``code`` is an 18-character unified social credit code with a correct check character.

    Leading/trailing spaces are ignored and lower case is accepted (``91...y43`` == ``91...Y43``).
    """
    if not isinstance(code, str):
        return False
    c = code.strip().upper()
    if len(c) != 18 or any(ch not in _VALUE for ch in c):
        return False
    return check_char(c[:17]) == c[17]


def valid_mask(codes: pd.Series | Iterable[object]) -> np.ndarray:
    """Vectorised :func:`is_valid` over a column (``None``/NaN/non-text -> False)."""
    vals = codes.to_numpy(dtype=object) if isinstance(codes, pd.Series) else np.asarray(list(codes), dtype=object)
    out = np.zeros(len(vals), dtype=bool)
    if len(vals) == 0:
        return out
    norm = [v.strip().upper() if type(v) is str else None for v in vals]
    ok = np.fromiter((v is not None and len(v) == 18 and v.isascii() for v in norm), dtype=bool, count=len(norm))
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return out
    joined = "".join([norm[i] for i in idx])
    raw = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(len(idx), 18)
    vals = _LUT[raw]
    chars_ok = (vals >= 0).all(axis=1)
    expected = (31 - (vals[:, :17] * WEIGHTS).sum(axis=1) % 31) % 31
    out[idx] = chars_ok & (expected == vals[:, 17])
    return out


def _org_code(rng: random.Random) -> str:
    body = "".join(rng.choice("0123456789" if i else "0123456789ABCDEFGHJKLMNPQRTUWXY"[:20]) for i in range(8))
    total = sum((_ORG_CHARS.index(ch) if ch.isalpha() else int(ch)) * w for ch, w in zip(body, _ORG_WEIGHTS,
                                                                                          strict=True))
    c9 = 11 - total % 11
    return body + ("X" if c9 == 10 else "0" if c9 == 11 else str(c9))


def make(seed: int | random.Random, *, region: str = "420100") -> str:
    """One valid code, deterministic for an integer ``seed`` (or drawn from a ``random.Random``).

    ``region`` is the 6-digit division code of the registering authority (default Wuhan, 420100).
    """
    rng = seed if isinstance(seed, random.Random) else random.Random(seed)
    if len(region) != 6 or not region.isdigit():
        raise ValueError(f"行政区划代码应为 6 位数字：{region!r} (region must be a 6-digit division code: {region!r})")
    first17 = rng.choice(_PREFIXES) + region + _org_code(rng)
    return first17 + check_char(first17)


def make_many(n: int, *, seed: int = 0, regions: Iterable[str] = ("420100",)) -> list[str]:
    """``n`` distinct valid codes, deterministic for ``seed``; regions are used in turn."""
    rng = random.Random(seed)
    regs = list(regions) or ["420100"]
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        code = make(rng, region=regs[len(out) % len(regs)])
        if code not in seen:
            seen.add(code)
            out.append(code)
    return out


__all__ = ["is_valid", "valid_mask", "make", "make_many", "check_char", "CHARSET"]


def make_array(rng: np.random.Generator, division_codes: np.ndarray) -> np.ndarray:
    """Unified social credit codes (GB 32100-2015) for registrations in the given 6-digit division codes.

    Position 1 registration authority (9 = market regulation), 2 entity type (1 company, 2 sole trader,
    3 co-operative), 3-8 the division code, 9-17 an organisation code with its GB 11714 check character,
    18 the GB 32100 check character. Returns an object array of 18-character strings.
    """
    div = np.asarray(division_codes, dtype="U6")
    n = len(div)
    out = np.zeros((n, 18), dtype=np.int64)  # values are indices into CHARSET
    out[:, 0] = 9
    out[:, 1] = rng.choice([1, 2, 3], size=n, p=[0.9, 0.07, 0.03])
    digits = np.frombuffer(np.ascontiguousarray(div).tobytes(), dtype=np.uint32).reshape(n, 6) - ord("0")
    out[:, 2:8] = digits
    body = rng.integers(0, 10, size=(n, 8))
    body[:, 0] = rng.choice([3, 5, 6, 7, 9], size=n)  # organisation codes rarely start with 0
    out[:, 8:16] = body
    c9 = 11 - (body * np.asarray(_ORG_WEIGHTS)).sum(axis=1) % 11
    # 10 -> 'X', 11 -> '0'; 'X' is index 29 in the GB 32100 alphabet
    out[:, 16] = np.where(c9 == 10, CHARSET.index("X"), np.where(c9 == 11, 0, c9))
    check = (31 - (out[:, :17] * WEIGHTS).sum(axis=1) % 31) % 31
    out[:, 17] = check
    table = np.frombuffer(CHARSET.encode("ascii"), dtype=np.uint8)
    chars = table[out].astype(np.uint8)
    return np.frombuffer(chars.tobytes(), dtype="S18").astype("U18").astype(object)
