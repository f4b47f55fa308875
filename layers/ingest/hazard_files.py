"""Hazard files as provincial hazard systems and enterprises' own sheets write them.

Such a file names the enterprise (or venue) by its unified social credit code and its name, not by our ids,
often has no hazard id (or only a 序号 that counts the rows), and writes values in Chinese words: levels
(重大隐患, 一般事故隐患), statuses (已销号, 整改中, 待验收, 已驳回), the five elements (是/否, √/×, 已落实, a person's
name for 责任到位, an amount for 资金到位) and funds as ``5万元`` or ``50000元``. This module reads those words
into the hazards schema; :mod:`layers.ingest.importer` calls it for the ``hazards`` layer:

- :func:`prepare` turns the file's words into what the importer's column checks accept (values only: the
  raw rows kept for quarantine stay as the file wrote them) and returns the details the five-element columns
  carried (a name, an amount, a date, a plan);
- :func:`reference_columns` finds the credit-code and name columns; :func:`resolve_targets` maps each row's
  credit code to the object in the store (enterprises first, then venues) and cross-checks the name;
- :func:`derived_ids` gives rows without an id a deterministic one from (credit code or target, found date,
  type, row).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from layers.ingest import validate
from layers.schema import LAYERS

#: header spellings of provincial systems and enterprise sheets, beyond the schema's aliases
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("隐患编号", "隐患编码", "隐患ID", "隐患序列号"),
    "type": ("隐患类别", "隐患分类", "隐患类型名称", "问题类别", "隐患种类"),
    "description": ("隐患内容", "隐患情况", "隐患描述及位置", "存在问题", "隐患名称", "问题描述", "隐患具体描述"),
    "level": ("隐患等级", "等级", "隐患分级"),
    "found_date": ("检查日期", "发现时间", "排查时间", "检查时间", "登记日期", "上报日期"),
    "deadline": ("整改完成时限", "限期整改日期", "计划完成日期", "整改截止日期", "要求整改期限"),
    "status": ("整改情况", "治理状态", "隐患状态", "整改进度", "治理情况"),
    "closed_date": ("销号时间", "整改完成日期", "完成日期", "实际完成日期", "验收销号日期"),
    "responsible_person": ("整改负责人", "责任人姓名", "整改责任人姓名"),
    "measures": ("整改措施及方案", "治理措施"),
    "funds": ("整改资金(元)", "资金(元)", "投入资金", "整改投入资金", "整改资金(万元)", "治理资金", "投入资金(万元)",
              "投入资金(元)"),
    "plan_ref": ("应急预案名称", "应急措施和预案", "应急预案措施"),
    "checker": ("验收人员", "验收责任人"),
    "check_date": ("验收时间",),
    "evidence": ("验收情况",),
    "reject_reason": ("验收不通过原因", "驳回理由", "退回原因"),
    "resp_in_place": ("是否责任到位", "整改责任到位", "责任是否到位"),
    "measures_in_place": ("是否措施到位", "整改措施到位", "措施是否到位"),
    "funds_in_place": ("是否资金到位", "整改资金到位", "资金是否到位"),
    "deadline_in_place": ("是否时限到位", "整改时限到位", "时限是否到位"),
    "plan_in_place": ("是否预案到位", "应急预案到位", "预案是否到位"),
}

#: the columns that name the object: its credit code and its name
CREDIT_HEADERS = tuple(dict.fromkeys((LAYERS["enterprises"].column("credit_code").zh,
                                      *LAYERS["enterprises"].column("credit_code").aliases, "社会统一信用代码",
                                      "信用代码证号", "统一代码")))
NAME_HEADERS = tuple(dict.fromkeys((*LAYERS["enterprises"].column("name").aliases, "被检查单位", "被检查单位名称",
                                    "企业(单位)名称", "生产经营单位名称", "单位", "企业", "隐患单位")))
#: layers an object named by credit code is looked for in, in this order
CREDIT_LAYERS = ("enterprises", "venues")

#: value words beyond the schema's labels and aliases
LEVEL_WORDS = {"重大事故隐患": "major", "重大隐患": "major", "一般事故隐患": "general", "一般隐患": "general",
               "较大隐患": "general"}
STATUS_WORDS = {"正在整改": "rectifying", "整改中": "rectifying", "逾期未整改": "open", "未开始整改": "open",
                "待整改": "open", "已整改待验收": "awaiting_check", "待验收": "awaiting_check", "已销号": "closed",
                "已验收销号": "closed", "验收通过": "closed", "验收合格": "closed", "已验收": "closed",
                "验收不通过": "rejected", "验收未通过": "rejected", "复查不合格": "rejected", "已退回": "rejected",
                "已驳回": "rejected"}
YES_WORDS = (*validate.TRUE_WORDS, "已落实", "落实", "已制定", "有预案", "已明确", "明确")
NO_WORDS = (*validate.FALSE_WORDS, "未落实", "未制定", "无预案", "未明确", "暂无", "/", "-", "—")

#: each of the five elements' flag column and the detail a non-yes/no word in it gives
FIVE_DETAIL = {"resp_in_place": "responsible_person", "measures_in_place": "measures", "funds_in_place": "funds",
               "deadline_in_place": "deadline", "plan_in_place": "plan_ref"}

_AMOUNT = re.compile(r"^[¥￥]?\s*(?P<n>\d+(?:,\d{3})*(?:\.\d+)?)\s*(?P<u>万元|万|千元|元)?$")


def _norm(v: object) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(v))).lower()


def header_is_yuan(header: str) -> bool:
    """True when a funds header says its plain numbers are yuan (``整改资金（元）``), not 10k yuan."""
    h = validate.norm_header(header)
    return "(元)" in h or h.endswith("元") and "万元" not in h


def funds_in_10k(value: object, *, yuan: bool) -> float | None:
    """An amount of money in 10k yuan (万元): ``5万元`` -> 5, ``50000元`` -> 5, ``8千元`` -> 0.8, ``¥12,000`` -> 1.2;
    a plain number is in the column's unit (``yuan``: yuan, else 10k yuan). None when it is no amount."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value) / 10_000 if yuan else float(value)
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value)))
    m = _AMOUNT.fullmatch(text)
    if not m:
        return None
    n = float(m["n"].replace(",", ""))
    unit = m["u"]
    if unit in ("万元", "万"):
        return n
    if unit == "千元":
        return n / 10
    if unit == "元" or yuan or text[0] in "¥￥":  # a yuan sign without a unit: yuan
        return n / 10_000
    return n


@dataclass
class Prepared:
    """What :func:`prepare` made of the file's values."""

    frame: pd.DataFrame                  # the values the importer's column checks read (a copy where changed)
    details: dict[str, pd.Series] = field(default_factory=dict)  # detail column -> values from a flag column
    notes: list[tuple[str, str]] = field(default_factory=list)


def prepare(frame: pd.DataFrame, columns: Mapping[str, str]) -> Prepared:
    """Read the words of a hazard file: levels and statuses in Chinese words, yes/no in any of its spellings,
    a name, amount, date or plan where a five-element column says what is in place, funds with their unit.

    ``columns`` maps schema column -> file header (from :func:`layers.ingest.validate.map_columns`). The
    returned frame is a copy holding the converted values; ``frame`` itself is not changed.
    """
    out = frame.copy(deep=False)
    prep = Prepared(out)
    for col, words in (("level", LEVEL_WORDS), ("status", STATUS_WORDS)):
        if col in columns:
            text = validate.to_text(frame[columns[col]])
            table = {_norm(k): v for k, v in words.items()}
            out[columns[col]] = text.map(lambda v, t=table: t.get(_norm(v), v) if v is not None else None)
    yes = {_norm(w) for w in YES_WORDS}
    no = {_norm(w) for w in NO_WORDS}
    for flag, detail in FIVE_DETAIL.items():
        if flag not in columns:
            continue
        text = validate.to_text(frame[columns[flag]])
        low = text.map(lambda v: _norm(v) if v is not None else None)
        is_yes = low.isin(yes).to_numpy(dtype=bool)
        is_no = low.isin(no).to_numpy(dtype=bool)
        said = text.notna().to_numpy(dtype=bool) & ~is_yes & ~is_no  # a name, an amount, a date, a plan
        flags = np.where(is_yes | said, "true", np.where(is_no, "false", None)).astype(object)
        out[columns[flag]] = pd.Series(flags, index=frame.index, dtype=object)
        if said.any():
            values = text.where(pd.Series(said, index=frame.index), None)
            if detail == "funds":
                values = values.map(lambda v: funds_in_10k(v, yuan=False) if v is not None else None)
            prep.details[detail] = values
    if "funds" in columns:
        header = columns["funds"]
        yuan = header_is_yuan(header)
        raw = frame[header]
        conv = raw.map(lambda v: funds_in_10k(v, yuan=yuan))
        # what is no amount stays as written, so the column check reports it (and clears it)
        out[header] = conv.astype(object).where(conv.notna(), raw)
        if yuan:
            prep.notes.append((f"资金列“{header}”以元为单位，已换算为万元", f"the funds column {header!r} is in yuan; "
                               "converted to 10k yuan"))
    return prep


def reference_columns(headers: list[str], used: set[str]) -> tuple[str | None, str | None]:
    """The file's credit-code and name columns among the headers no hazard column took (None where absent)."""
    def find(aliases: tuple[str, ...]) -> str | None:
        keys = {validate.norm_header(a) for a in aliases}
        return next((h for h in headers if h not in used and validate.norm_header(h) in keys), None)

    return find(CREDIT_HEADERS), find(NAME_HEADERS)


def same_name(a: object, b: object) -> bool:
    """Names compared as people read them: full-width forms, spaces and brackets do not count."""
    def key(v: object) -> str:
        return re.sub(r"[\s()\[\]【】]", "", unicodedata.normalize("NFKC", str(v)))
    return key(a) == key(b)


@dataclass
class Targets:
    """Per row: the object's layer and id (None where not found), its stored name, and why not found."""

    layer: np.ndarray
    target_id: np.ndarray
    stored_name: np.ndarray
    unknown: np.ndarray     # a credit code no object in the store carries
    ambiguous: np.ndarray   # a credit code several objects carry


def resolve_targets(store, codes: pd.Series) -> Targets:
    """Look up each credit code among the enterprises, then the venues, of ``store``."""
    n = len(codes)
    wanted = set(codes.dropna())
    found: dict[str, list[tuple[str, str, object]]] = {}
    for layer in CREDIT_LAYERS:
        if not wanted:
            break
        objs = store.read(layer, columns=["id", "credit_code", "name"])
        objs = objs[objs["credit_code"].isin(wanted)]
        for oid, code, name in zip(objs["id"], objs["credit_code"], objs["name"], strict=True):
            found.setdefault(str(code).upper(), []).append((layer, str(oid), name))
        wanted -= {c for c in found if found[c][0][0] == layer}
    layer_a = np.full(n, None, dtype=object)
    ids = np.full(n, None, dtype=object)
    names = np.full(n, None, dtype=object)
    unknown = np.zeros(n, dtype=bool)
    ambiguous = np.zeros(n, dtype=bool)
    for i, code in enumerate(codes.to_numpy(dtype=object)):
        if code is None or (isinstance(code, float) and np.isnan(code)):
            continue
        hits = found.get(code)
        if not hits:
            unknown[i] = True
        elif len(hits) > 1:  # all in one layer: a later layer is only searched for codes not found before
            ambiguous[i] = True
        else:
            layer_a[i], ids[i], names[i] = hits[0]
    return Targets(layer_a, ids, names, unknown, ambiguous)


def derived_ids(keys: np.ndarray, found: pd.Series, types: pd.Series | None, rows: np.ndarray) -> np.ndarray:
    """``HZ-`` and 12 hex digits of SHA-256 over (object key, found date, type, the file's row number): the same
    file gives the same ids, so importing it twice is refused as duplicate ids."""
    days = found.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    kinds = types.to_numpy(dtype=object) if types is not None else np.full(len(keys), None, dtype=object)
    out = np.empty(len(keys), dtype=object)
    for i, (k, d, t, r) in enumerate(zip(keys, days, kinds, rows, strict=True)):
        text = f"{k or ''}|{d if isinstance(d, str) else ''}|{t or ''}|{int(r)}"
        out[i] = "HZ-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12].upper()
    return out


__all__ = ["HEADER_ALIASES", "CREDIT_HEADERS", "NAME_HEADERS", "Prepared", "Targets", "prepare", "funds_in_10k",
           "header_is_yuan", "reference_columns", "resolve_targets", "same_name", "derived_ids"]
