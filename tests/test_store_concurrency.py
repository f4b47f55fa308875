"""The GeoPackage store under concurrent use: WAL, readers that never wait for a writer, no network filesystems."""

from __future__ import annotations

import sqlite3
import threading

import geopandas as gpd
import pytest
from shapely.geometry import Point

from layers.errors import StoreError
from layers.store import StoreBusy, open_store
from layers.store import mounts as mounts_module
from layers.store.mounts import filesystem_type, is_network_filesystem

#: how long a test thread waits for the other before giving up (a bound on "never", not a speed budget)
PATIENCE_S = 20

FAKE_MOUNTS = """\
/dev/vda / ext4 rw,relatime 0 0
proc /proc proc rw,relatime 0 0
/dev/vdb /mnt ext4 rw,relatime 0 0
fileserver:/export/gis /mnt/share nfs4 rw,relatime,vers=4.2 0 0
//nas/城市 /mnt/smb\\040drive cifs rw,relatime 0 0
user@host:/data /home/me/remote fuse.sshfs rw,nosuid,nodev 0 0
drvfs /mnt/c 9p rw,noatime 0 0
"""


def _enterprises(ids: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": ids, "name": ids, "industry": "hazchem", "grade": "major",
                             "district_code": "420102"},
                            geometry=[Point(114.3 + i * 1e-4, 30.6) for i in range(len(ids))], crs=4326)


# -- WAL --------------------------------------------------------------------------------------------

def test_store_is_in_wal_mode_with_normal_sync(tmp_path):
    path = tmp_path / "s.gpkg"
    store = open_store(path)
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with store._con() as con:  # synchronous is per connection: every connection of the store sets it
        assert con.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_an_existing_store_in_rollback_mode_is_switched_to_wal(tmp_path):
    path = tmp_path / "s.gpkg"
    open_store(path)
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA journal_mode = DELETE")
    open_store(path)
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_reader_does_not_wait_for_a_big_write(tmp_path):
    """A long write transaction is open in one thread (and has spilled pages to the file, as a big import
    does); a read in another thread finishes while it is still open, and sees the data as before it."""
    store = open_store(tmp_path / "s.gpkg")
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises(["E0", "E1"]))
    writing, read_done = threading.Event(), threading.Event()
    seen: dict = {}

    def writer() -> None:
        with store.transaction() as tx:
            tx.con.execute("PRAGMA cache_size = 10")  # a tiny page cache: the write spills to the file
            tx.append("enterprises", _enterprises([f"W{i}" for i in range(20_000)]))
            writing.set()
            seen["read_finished_while_writing"] = read_done.wait(PATIENCE_S)

    def reader() -> None:
        writing.wait(PATIENCE_S)
        try:
            seen["ids"] = sorted(store.read("enterprises", columns=["id"])["id"])
            seen["count"] = store.count("enterprises")
        except Exception as exc:  # noqa: BLE001 - reported below
            seen["error"] = exc
        read_done.set()

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(3 * PATIENCE_S)
    assert "error" not in seen, seen.get("error")
    assert seen["read_finished_while_writing"] is True
    assert seen["ids"] == ["E0", "E1"] and seen["count"] == 2  # the last committed state, not half a write
    assert store.count("enterprises") == 20_002


# -- another process holds the lock ----------------------------------------------------------------

def _hold_exclusive_lock(path, locked: threading.Event, release: threading.Event, outcome: dict) -> None:
    """What another program does that takes the file for itself (a tool in exclusive locking mode, a VACUUM,
    a writer on a file still in rollback-journal mode): no reader gets in until it lets go."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA locking_mode = EXCLUSIVE")
    con.execute("BEGIN EXCLUSIVE")
    con.execute("UPDATE riskmap_meta SET value = value")
    locked.set()
    outcome["holder_gave_up_waiting"] = not release.wait(PATIENCE_S)
    con.execute("ROLLBACK")
    con.close()


def test_reads_say_busy_at_once_while_another_process_holds_the_lock(tmp_path):
    path = tmp_path / "s.gpkg"
    store = open_store(path)
    with store.transaction() as tx:
        tx.append("enterprises", _enterprises(["E0"]))
    locked, release, outcome = threading.Event(), threading.Event(), {}
    holder = threading.Thread(target=_hold_exclusive_lock, args=(path, locked, release, outcome))
    holder.start()
    try:
        assert locked.wait(PATIENCE_S)
        calls = {"read": lambda: store.read("enterprises"), "count": lambda: store.count("enterprises"),
                 "data_version": store.data_version, "open": lambda: open_store(path)}
        answers = {}
        for name, call in calls.items():
            try:
                call()
                answers[name] = "answered"
            except StoreBusy as exc:
                answers[name] = str(exc)
    finally:
        release.set()
        holder.join(3 * PATIENCE_S)
    assert outcome["holder_gave_up_waiting"] is False  # every read came back while the lock was still held
    busy = "数据正在写入，请稍候重试 (the store is busy with a write; retrying)"
    assert answers == {name: busy for name in ("read", "count", "data_version", "open")}
    assert isinstance(StoreBusy(), StoreError)
    assert list(store.read("enterprises")["id"]) == ["E0"]  # and once it is let go, reads work again


# -- network filesystems ----------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "expected"), [
    ("/srv/data/city.gpkg", "ext4"),
    ("/mnt/local/city.gpkg", "ext4"),
    ("/mnt/share/city.gpkg", "nfs4"),
    ("/mnt/share/deeper/not-yet/city.gpkg", "nfs4"),
    ("/mnt/shared/city.gpkg", "ext4"),  # a sibling whose name starts the same is not the share
    ("/mnt/smb drive/城市.gpkg", "cifs"),
    ("/home/me/remote/city.gpkg", "fuse.sshfs"),
    ("/mnt/c/Users/x/city.gpkg", "9p"),
])
def test_filesystem_type_from_a_mounts_table(path, expected):
    assert filesystem_type(path, mounts=FAKE_MOUNTS) == expected


def test_network_filesystem_types():
    for fstype in ("nfs", "nfs4", "cifs", "smb3", "fuse.sshfs", "sshfs", "9p"):
        assert is_network_filesystem(fstype), fstype
    for fstype in ("ext4", "xfs", "btrfs", "tmpfs", "overlay", "zfs", None):
        assert not is_network_filesystem(fstype), fstype
    assert filesystem_type("/x", mounts="") is None


def test_a_store_on_a_network_filesystem_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(mounts_module, "_proc_mounts",
                        lambda: f"/dev/vda / ext4 rw 0 0\nserver:/gis {tmp_path} nfs4 rw 0 0\n")
    with pytest.raises(StoreError, match="网络文件系统") as err:
        open_store(tmp_path / "city.gpkg")
    assert "network filesystem (nfs4)" in str(err.value) and "local disk" in str(err.value)
    assert not (tmp_path / "city.gpkg").exists()  # refused before anything was written
