"""The session secret: ``RISKMAP_SECRET_KEY``, or a key file made once (mode 0600) that every worker reads.

Several workers must sign cookies with one key, or a session made on one is refused by the next. The key file lives
beside a GeoPackage store (``data/city.gpkg`` -> ``data/.riskmap-secret``); for a database URL there is no folder
beside the store, so it lives in ``data/`` under the working directory. The file is written to a temporary name and
linked into place (``os.link`` fails when the name exists), so two workers starting at once never see a file that
exists but is still empty: both end up with the key of whichever linked first.

When the file can be neither read nor made, one worker falls back to a key of its own process (sessions end at a
restart; said in the log); several workers refuse to start (:class:`SecretKeyUnavailable`).
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from layers.errors import RiskMapError
from layers.settings import Settings
from layers.store import is_database_url

log = logging.getLogger(__name__)

KEY_FILE = ".riskmap-secret"
#: where the key file of a database store lives, under the working directory
DATABASE_KEY_DIR = Path("data")


class SecretKeyUnavailable(RiskMapError):
    """Several workers and no session secret they can share: the app does not start."""


def key_file_path(settings: Settings) -> Path:
    """The key file of ``settings``' store: beside a GeoPackage, in ``data/`` under the working directory for a
    database URL."""
    if is_database_url(settings.store):
        return (DATABASE_KEY_DIR / KEY_FILE).resolve()
    return Path(settings.store).resolve().parent / KEY_FILE


def _read(path: Path) -> str:
    key = path.read_text(encoding="ascii").strip()
    if not key:
        raise OSError(f"{path} is empty")
    return key


def read_or_make_key(path: Path) -> str:
    """The key in ``path``, made (64 hex digits, mode 0600) when there is none; raises OSError when the file can be
    neither read nor made (or is empty)."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)           # whole or not at all; FileExistsError: another worker was first
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
    return _read(path)


def session_secret(settings: Settings) -> str:
    """The key that signs session cookies (see the module docstring)."""
    if settings.secret_key:
        return settings.secret_key
    path = key_file_path(settings)
    try:
        return read_or_make_key(path)
    except OSError as exc:
        why = exc.strerror or str(exc)
        if settings.workers > 1:
            raise SecretKeyUnavailable(
                f"会话密钥文件 {path} 无法读取或创建（{why}）：{settings.workers} 个工作进程必须共用同一密钥，"
                f"请设置 RISKMAP_SECRET_KEY，或让该文件可写 (the session key file {path} can be neither read nor "
                f"made ({why}): {settings.workers} workers must share one key; set RISKMAP_SECRET_KEY, or make "
                f"that file writable)") from exc
        log.warning("session key file %s unusable (%s): a key of this process only; sessions end at a restart "
                    "(set RISKMAP_SECRET_KEY)", path, why)
        return secrets.token_hex(32)


__all__ = ["DATABASE_KEY_DIR", "KEY_FILE", "SecretKeyUnavailable", "key_file_path", "read_or_make_key",
           "session_secret"]
