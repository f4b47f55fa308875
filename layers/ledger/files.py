"""Photos and documents attached to a hazard (整改照片、验收材料), kept in the store itself.

A file is accepted only when its first bytes say it is a JPEG, PNG, PDF or WebP (the name and the browser's
type are not trusted), it is not larger than ``settings.upload_max_mb``, and the user may edit the hazard (the
hazard's target lies in the user's area). Its name is cut down to a plain file name; its SHA-256 is kept; the
upload is written with its audit row in one transaction.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import pandas as pd

from layers.access.policy import Principal
from layers.errors import AccessDenied, StepRefused
from layers.ledger.audit import audit_rows, new_id, now_iso, write_audit
from layers.ledger.workflow import HAZARDS, authorize_target
from layers.schema import LAYERS
from layers.settings import Settings
from layers.store import Store

FILES = "hazard_files"
MAX_NAME = 120
#: the accepted types: mime -> (the file's usual suffixes, the first is added when the name has none of them)
TYPES: dict[str, tuple[str, ...]] = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "application/pdf": (".pdf",),
    "image/webp": (".webp",),
}
_META_COLUMNS = [c for c in LAYERS[FILES].names if c != "data"]


def sniff_type(data: bytes) -> str | None:
    """The mime type the first bytes show (JPEG, PNG, PDF or WebP), None for anything else."""
    head = bytes(data[:16])
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def safe_filename(filename: str | None, mime: str) -> str:
    """A plain file name: no folders or drive, no control characters, at most :data:`MAX_NAME` characters, and
    a suffix that matches the file's real type."""
    name = unicodedata.normalize("NFC", str(filename or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r'[<>:"|?*]', "_", name).strip().lstrip(".").strip()
    suffixes = TYPES[mime]
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if f".{ext.lower()}" not in suffixes:
        stem, ext = name, suffixes[0][1:]
    stem = stem.strip() or "file"
    stem = stem[:MAX_NAME - len(ext) - 1]
    return f"{stem}.{ext}"


def attach(store: Store, principal: Principal | None, hazard_id: str, filename: str, data: bytes, *,
           settings: Settings) -> str:
    """Attach a file to hazard ``hazard_id``; returns the new file's id.

    Refused (:class:`StepRefused`, nothing written) when the file is empty, larger than
    ``settings.upload_max_mb`` or not a JPEG, PNG, PDF or WebP by its first bytes; :class:`AccessDenied` when
    the hazard's target lies outside the user's area.
    """
    hz = store.read(HAZARDS, columns=["id", "target_layer", "target_id"], ids=[str(hazard_id)])
    if len(hz) == 0:
        raise StepRefused(f"隐患 {hazard_id} 不存在 (hazard {hazard_id} does not exist)")
    authorize_target(store, principal, "hazard.edit", str(hz["target_layer"].iloc[0]), str(hz["target_id"].iloc[0]))
    data = bytes(data or b"")
    limit = int(float(settings.upload_max_mb) * 1024 * 1024)
    if not data:
        raise StepRefused("文件是空的 (the file is empty)")
    if len(data) > limit:
        raise StepRefused(f"文件过大：{len(data) / 1048576:.1f} MB，上限 {settings.upload_max_mb:g} MB (the file is too "
                          f"large: {len(data) / 1048576:.1f} MB, the limit is {settings.upload_max_mb:g} MB)")
    mime = sniff_type(data)
    if mime is None:
        raise StepRefused("只能上传 JPEG、PNG、WebP 图片或 PDF 文件（按文件内容判断） (only JPEG, PNG or WebP images "
                          "and PDF files can be attached; the type is judged by the file's content)")
    name = safe_filename(filename, mime)
    digest = hashlib.sha256(data).hexdigest()
    file_id = new_id("F", 16)
    at = now_iso()
    row = pd.DataFrame([{"id": file_id, "hazard_id": str(hazard_id), "filename": name, "mime": mime,
                         "size": len(data), "sha256": digest, "data": data, "uploaded_by": principal.id,
                         "uploaded_at": at}]).astype(object)
    audit = audit_rows(principal.id, "attach", HAZARDS, str(hazard_id), {"file": (None, name)},
                       note=f"{file_id} {mime} {len(data)} B sha256={digest}", at=at)
    with store.transaction() as tx:
        tx.append(FILES, row)
        write_audit(tx, audit)
    return file_id


def files_of(store: Store, hazard_id: str) -> pd.DataFrame:
    """The files of one hazard, oldest first, without their content (the caller checks the user's access)."""
    frame = store.read(FILES, columns=_META_COLUMNS, where={"hazard_id": str(hazard_id)})
    return frame.sort_values("uploaded_at", kind="stable").reset_index(drop=True)


def file_data(store: Store, principal: Principal | None, file_id: str) -> tuple[str, str, bytes]:
    """(file name, mime type, content) of one file, when the user may read its hazard's target."""
    denied = AccessDenied(f"文件 {file_id} 不存在或无权查看 (file {file_id} is unknown or outside your area)")
    f = store.read(FILES, columns=["id", "hazard_id", "filename", "mime", "data"], ids=[str(file_id)])
    if len(f) == 0:
        raise denied
    hz = store.read(HAZARDS, columns=["id", "target_layer", "target_id"], ids=[str(f["hazard_id"].iloc[0])])
    if len(hz) == 0:
        raise denied
    authorize_target(store, principal, "read", str(hz["target_layer"].iloc[0]), str(hz["target_id"].iloc[0]))
    return str(f["filename"].iloc[0]), str(f["mime"].iloc[0]), bytes(f["data"].iloc[0])


__all__ = ["attach", "files_of", "file_data", "sniff_type", "safe_filename", "TYPES", "MAX_NAME"]
