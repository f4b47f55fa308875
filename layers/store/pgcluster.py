"""A throw-away local PostgreSQL/PostGIS cluster: ``initdb`` in a folder, ``pg_ctl start``, a URL, ``pg_ctl stop``.

Used by the tests (``tests/pg.py``) and the benchmarks to run the PostGIS store against a real server, and by
anyone who wants to try the PostGIS store on one machine without setting up a server::

    python -m layers.store.pgcluster /tmp/riskmap-pg     # starts it, prints the URL, stops on Ctrl-C

It lives in the store wing (not under ``tests/``) because the benchmarks and that command use it too, and
``benchmarks/`` does not import ``tests/``. It imports nothing at module load beyond the standard library.

The cluster listens on 127.0.0.1 only, on a free port, with its unix socket in its own folder, trusts local
connections (it is for one user's tests: never point it at data that matters) and has ``postgis`` created in
its database. As root, ``initdb`` refuses to run, so the folder is given to the ``postgres`` user and the
server binaries run as that user (``runuser -u postgres --``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

#: where Debian's postgresql-15 puts the server binaries
PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")
DEBIAN_PACKAGES = "postgresql-15 postgresql-15-postgis-3"
DATABASE = "riskmap"


class ClusterUnavailable(RuntimeError):
    """PostgreSQL's server binaries or PostGIS are not installed, or the cluster did not start."""


def _bin_dir() -> Path:
    for d in PG_BIN_DIRS:
        if (Path(d) / "initdb").exists():
            return Path(d)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise ClusterUnavailable(
        f"找不到 PostgreSQL 服务器程序 (initdb)；请安装 Debian 软件包：apt-get install -y {DEBIAN_PACKAGES} "
        f"(PostgreSQL's server binaries (initdb) were not found: install the Debian packages "
        f"`apt-get install -y {DEBIAN_PACKAGES}`, or set RISKMAP_TEST_PG to the URL of a PostGIS database)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """A running throw-away cluster; :meth:`stop` ends it and removes its folder (when it made the folder)."""

    root: Path
    port: int
    bin_dir: Path
    owned_root: bool = False
    _as_postgres: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        user = "postgres" if self._as_postgres else _current_user()
        return f"postgresql://{user}@127.0.0.1:{self.port}/{DATABASE}"

    def url_for(self, database: str) -> str:
        return self.url.rsplit("/", 1)[0] + "/" + database

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "stop", "-m", "fast", "-w", check=False)
        if self.owned_root:
            shutil.rmtree(self.root, ignore_errors=True)


def _current_user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def start(root: Path | None = None) -> Cluster:
    """initdb a new cluster in ``root`` (a new temporary folder when None), start it, create the database
    ``riskmap`` with PostGIS in it. Raises :class:`ClusterUnavailable` with what to install."""
    bin_dir = _bin_dir()
    owned = root is None
    root = Path(tempfile.mkdtemp(prefix="riskmap-pg-")) if root is None else Path(root)
    root.mkdir(parents=True, exist_ok=True)
    as_postgres = os.geteuid() == 0
    cluster = Cluster(root=root, port=_free_port(), bin_dir=bin_dir, owned_root=owned, _as_postgres=as_postgres)
    data, sock = root / "data", root / "sock"
    sock.mkdir(exist_ok=True)
    if as_postgres:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sock, "postgres", "postgres")
        os.chmod(root, 0o700)
    user = "postgres" if as_postgres else _current_user()
    try:
        cluster._run("initdb", "-D", str(data), "-U", user, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8",
                     "--no-sync")
        opts = (f"-c listen_addresses=127.0.0.1 -p {cluster.port} -c unix_socket_directories={sock} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        cluster._run("pg_ctl", "-D", str(data), "-o", opts, "-l", str(root / "server.log"), "-w", "-t", "60",
                     "start")
        cluster._run("createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", user, DATABASE)
        done = cluster._run("psql", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", user, "-d", DATABASE,
                            "-v", "ON_ERROR_STOP=1", "-c", "CREATE EXTENSION IF NOT EXISTS postgis", check=False)
        if done.returncode:
            raise ClusterUnavailable(
                f"PostGIS 扩展无法创建；请安装 Debian 软件包 {DEBIAN_PACKAGES} (the postgis extension could not be "
                f"created: install the Debian packages {DEBIAN_PACKAGES}): {done.stderr.strip()}")
    except subprocess.CalledProcessError as exc:
        log_file = root / "server.log"
        tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
        cluster.stop()
        raise ClusterUnavailable(f"PostgreSQL 临时集群启动失败 (the throw-away PostgreSQL cluster did not start): "
                                 f"{' '.join(exc.cmd)}: {exc.stderr}\n{tail}") from exc
    except BaseException:
        cluster.stop()
        raise
    return cluster


def main(argv: list[str]) -> int:
    """Start a cluster, print its URL, stop it on Ctrl-C or SIGTERM (``timeout``, ``kill``: never left running)."""
    import signal

    def _stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)   # also when started in the background, where SIGINT is ignored
    import argparse

    ap = argparse.ArgumentParser(prog="python -m layers.store.pgcluster",
                                 description="启动一个临时 PostgreSQL/PostGIS 集群，只监听 127.0.0.1，停止时删除 (start a "
                                             "throw-away PostgreSQL/PostGIS cluster on 127.0.0.1, removed when stopped)")
    ap.add_argument("folder", nargs="?", help="where the cluster lives (default: a new temporary folder)")
    args = ap.parse_args(argv)
    cluster = start(Path(args.folder) if args.folder else None)
    try:
        print(f"PostgreSQL 临时集群已启动 (a throw-away cluster is running): {cluster.url}", flush=True)
        print("按 Ctrl-C 停止 (Ctrl-C stops it)", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
