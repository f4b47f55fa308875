"""Which filesystem a path is on, so the GeoPackage store can refuse a network filesystem.

SQLite's WAL mode keeps its index in a memory-mapped ``-shm`` file shared by every process that opens the
database; that works only when all of them run on the same host and the filesystem's locks are real. On NFS,
SMB/CIFS, sshfs, 9p and the like it silently corrupts the file or fails to lock, so the store refuses them
(https://www.sqlite.org/wal.html, "WAL does not work over a network filesystem").

Linux only (``/proc/mounts``); elsewhere the type is unknown and nothing is refused.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

#: filesystem types (the third field of /proc/mounts) on which SQLite's WAL cannot work
NETWORK_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "sshfs", "fuse.sshfs", "afs", "ncpfs", "coda",
    "davfs", "fuse.davfs2", "glusterfs", "fuse.glusterfs", "ceph", "fuse.ceph", "lustre", "gpfs", "beegfs",
    "fuse.s3fs", "fuse.rclone", "fuse.gcsfuse", "fuse.juicefs",
})

_PROC_MOUNTS = Path("/proc/mounts")
_OCTAL = re.compile(r"\\([0-7]{3})")


def _proc_mounts() -> str | None:
    """The mount table, decoded as the OS decodes paths (undecodable bytes kept as surrogates, like
    ``os.path.realpath`` gives them), so a mount point in any encoding still matches its paths."""
    try:
        return os.fsdecode(_PROC_MOUNTS.read_bytes())
    except OSError:
        return None


def _unescape(field: str) -> str:
    """/proc/mounts writes a space in a mount point as ``\\040`` (and tab, newline, backslash likewise)."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def filesystem_type(path: str | os.PathLike[str], *, mounts: str | None = None) -> str | None:
    """The type of the filesystem holding ``path`` (``"ext4"``, ``"nfs4"`` …), or None when unknown.

    ``mounts`` is a table in the format of ``/proc/mounts`` (device, mount point, type, options …, one mount a
    line); by default this machine's. The longest mount point that contains the path wins, so a share mounted
    under ``/mnt`` is found even though ``/`` contains it too. A path that does not exist yet is judged by
    the nearest directory above it that does.
    """
    table = _proc_mounts() if mounts is None else mounts
    if not table:
        return None
    target = os.path.realpath(os.fspath(path))
    best, best_type = -1, None
    for line in table.splitlines():   # plain string tests: this runs on every store open (every request)
        parts = line.split()
        if len(parts) < 3:
            continue
        point = _unescape(parts[1]) if "\\" in parts[1] else parts[1]
        point = point.rstrip("/") or "/"
        inside = target == point or target.startswith(point if point == "/" else point + "/")
        if inside and len(point) > best:
            best, best_type = len(point), parts[2]
    return best_type


def is_network_filesystem(fstype: str | None) -> bool:
    return fstype is not None and (fstype in NETWORK_FILESYSTEMS or fstype.startswith("nfs"))


__all__ = ["NETWORK_FILESYSTEMS", "filesystem_type", "is_network_filesystem"]
