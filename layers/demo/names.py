"""Names and codes for the demo city: places, roads, firms, people, unified social credit codes.

All functions are vectorised over numpy arrays (a million names take about a second) and deterministic
given the ``numpy.random.Generator`` passed in. Names are fictional.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Place-name syllables with their pinyin (first and second character of a two-character name).
PLACE_FIRST = (
    ("青", "Qing"), ("临", "Lin"), ("望", "Wang"), ("鹤", "He"), ("桂", "Gui"), ("长", "Chang"), ("白", "Bai"),
    ("金", "Jin"), ("玉", "Yu"), ("龙", "Long"), ("凤", "Feng"), ("松", "Song"), ("柳", "Liu"), ("梅", "Mei"),
    ("兰", "Lan"), ("竹", "Zhu"), ("石", "Shi"), ("沙", "Sha"), ("黄", "Huang"), ("紫", "Zi"), ("丹", "Dan"),
    ("清", "Qing"), ("新", "Xin"), ("古", "Gu"), ("南", "Nan"), ("北", "Bei"), ("东", "Dong"), ("西", "Xi"),
    ("阳", "Yang"), ("文", "Wen"), ("永", "Yong"), ("安", "An"), ("宁", "Ning"), ("和", "He"), ("平", "Ping"),
    ("丰", "Feng"), ("泰", "Tai"), ("福", "Fu"), ("德", "De"), ("兴", "Xing"), ("春", "Chun"), ("秋", "Qiu"),
    ("云", "Yun"), ("雁", "Yan"), ("芦", "Lu"), ("荷", "He"), ("杨", "Yang"), ("马", "Ma"), ("潘", "Pan"),
)
PLACE_SECOND = (
    ("山", "shan"), ("湖", "hu"), ("港", "gang"), ("口", "kou"), ("岭", "ling"), ("湾", "wan"), ("洲", "zhou"),
    ("桥", "qiao"), ("园", "yuan"), ("台", "tai"), ("坡", "po"), ("林", "lin"), ("塘", "tang"), ("溪", "xi"),
    ("店", "dian"), ("庄", "zhuang"), ("堤", "di"), ("岗", "gang"), ("滩", "tan"), ("河", "he"), ("泉", "quan"),
    ("门", "men"), ("城", "cheng"), ("坊", "fang"), ("集", "ji"), ("埠", "bu"), ("亭", "ting"), ("苑", "yuan"),
    ("阁", "ge"), ("墩", "dun"), ("垸", "yuan"), ("畈", "fan"), ("冲", "chong"), ("铺", "pu"), ("渡", "du"),
)
TRADE_NAMES = (
    "鑫", "恒", "华", "盛", "泰", "隆", "达", "源", "宏", "福", "瑞", "祥", "嘉", "兴", "丰", "信", "诚", "和",
    "昌", "顺", "通", "远", "宇", "航", "腾", "众", "创", "科", "博", "辉", "金", "银", "润", "安", "康", "宁",
    "明", "新", "天", "海", "汇", "聚", "百", "万", "联", "力", "立", "正", "德", "佳",
)
SURNAMES = (
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林",
    "罗", "高", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "潘",
    "袁", "蔡", "蒋", "余", "于", "杜", "叶", "程", "魏", "苏", "吕", "丁", "任", "卢",
)
GIVEN = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
    "霞", "平", "刚", "桂英", "华", "建国", "建华", "志强", "文", "斌", "波", "辉", "红", "玲", "鹏", "宇", "浩",
    "婷", "雪", "琳", "晨", "晓东", "海燕", "春梅", "国庆", "卫东", "子涵", "梓轩", "一鸣", "思远", "嘉怡", "欣怡",
)



def place_names(rng: np.random.Generator, n: int, *, unique: bool = True) -> tuple[list[str], list[str]]:
    """``n`` two-character place names and their pinyin (``"青山"``, ``"Qingshan"``); unique when asked."""
    total = len(PLACE_FIRST) * len(PLACE_SECOND)
    if unique and n > total:
        raise ValueError(f"only {total} distinct place names, asked for {n}")
    picks = rng.choice(total, size=n, replace=not unique)
    zh, en = [], []
    for p in picks.tolist():
        a, b = PLACE_FIRST[p // len(PLACE_SECOND)], PLACE_SECOND[p % len(PLACE_SECOND)]
        zh.append(a[0] + b[0])
        en.append(a[1] + b[1])
    return zh, en


def _pick(rng: np.random.Generator, options: tuple[str, ...] | list[str], n: int,
          p: np.ndarray | None = None) -> np.ndarray:
    arr = np.asarray(options, dtype=object)
    return arr[rng.choice(len(arr), size=n, p=p)]


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` Chinese person names (surname + given name), as an object array."""
    s = pd.Series(_pick(rng, SURNAMES, n))
    g = pd.Series(_pick(rng, GIVEN, n))
    return (s + g).to_numpy(dtype=object)


def trade_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` two-character firm trade names (字号) like ``"恒达"``."""
    a = pd.Series(_pick(rng, TRADE_NAMES, n))
    b = pd.Series(_pick(rng, TRADE_NAMES, n))
    same = (a == b).to_numpy()
    if same.any():  # "鑫鑫" exists, but mostly the two differ
        b[same] = _pick(rng, TRADE_NAMES, int(same.sum()))
    return (a + b).to_numpy(dtype=object)


def concat(*parts: np.ndarray | pd.Series | str) -> np.ndarray:
    """Element-wise string concatenation of arrays (and scalars), as an object array."""
    out: pd.Series | None = None
    n = max((len(p) for p in parts if not isinstance(p, str)), default=1)
    for p in parts:
        s = pd.Series([p] * n, dtype=object) if isinstance(p, str) else pd.Series(np.asarray(p, dtype=object))
        out = s if out is None else out + s
    return out.to_numpy(dtype=object)


def make_ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` + 1..n zero-padded to ``width`` digits (``E0000001``), as an object array of str."""
    if n == 0:
        return np.array([], dtype=object)
    width = max(width, len(str(n)))
    k = np.arange(1, n + 1, dtype=np.int64)
    digits = (k[:, None] // (10 ** np.arange(width - 1, -1, -1, dtype=np.int64))[None, :]) % 10
    raw = np.concatenate([np.broadcast_to(np.frombuffer(prefix.encode("ascii"), dtype=np.uint8),
                                          (n, len(prefix))), (digits + 48).astype(np.uint8)], axis=1)
    return np.frombuffer(np.ascontiguousarray(raw).tobytes(), dtype=f"S{len(prefix) + width}").astype(
        f"U{len(prefix) + width}").astype(object)


