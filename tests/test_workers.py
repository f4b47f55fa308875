"""Several workers: ``python -m dashboard --workers 2`` served by real gunicorn on a free port of 127.0.0.1.

The app is started with ``RISKMAP_WORKER_HEADER=1``, so every response names the process that answered
(``X-RiskMap-Worker``); requests go out on new connections from several threads until both workers (children of
the gunicorn master) have answered, so each check below is seen on both. No check depends on how long anything
takes: waits are bounded in count, and a wait that runs out fails with what was seen.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from pg_fixtures import pg_server, pg_url  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent
#: most requests one "until both workers answered" loop sends
MAX_TRIES = 400


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def worker(self) -> int | None:
        pid = self.headers.get("x-riskmap-worker")
        return int(pid) if pid else None

    def text(self) -> str:
        """The body as text; JSON with its ``\\uXXXX`` escapes decoded."""
        raw = self.body.decode("utf-8", "replace")
        if self.headers.get("content-type", "").startswith("application/json"):
            return json.dumps(json.loads(raw), ensure_ascii=False)
        return raw


@dataclass
class Served:
    """``python -m dashboard`` running as a child process, its port, log and store."""

    proc: subprocess.Popen
    port: int
    store: Path | str
    log: Path
    cookie: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
             cookie: str | None = None, timeout: float = 300) -> Reply:
        """One request on a new connection (so each may be accepted by another worker)."""
        con = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            h = dict(headers or {})
            c = self.cookie if cookie is None else cookie
            if c:
                h["Cookie"] = c
            con.request(method, path, body=body, headers=h)
            r = con.getresponse()
            return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            con.close()

    def workers(self) -> set[int]:
        """Process ids of the master's worker children, from /proc."""
        out = set()
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                cmd = (d / "cmdline").read_bytes()
                if b"dashboard" in cmd:
                    out.add(int(d.name))
        return out

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _login(served: Served, user: str = "admin", password: str = "demo") -> tuple[str, int]:
    r = served.call("POST", "/login", body=urlencode({"username": user, "password": password, "next": "/"}).encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"}, cookie="")
    assert r.status == 302, (r.status, r.text()[:300])
    cookie = r.headers["set-cookie"].split(";", 1)[0]
    return cookie, r.worker


def _on_both(served: Served, ask: Callable[[], Reply], check: Callable[[Reply], None], *,
             threads: int = 6) -> dict[int, int]:
    """Send ``ask()`` from ``threads`` threads until each worker has answered at least twice (at most
    :data:`MAX_TRIES` requests); every reply must pass ``check``. Returns replies per worker."""
    want = served.workers()
    assert len(want) == 2, f"expected 2 worker processes, found {want}"
    seen: dict[int, int] = {}
    sent = 0
    lock = threading.Lock()

    def one() -> None:
        nonlocal sent
        with lock:
            if sent >= MAX_TRIES or (set(seen) >= want and min(seen.values()) >= 2):
                return
            sent += 1
        r = ask()
        check(r)
        with lock:
            seen[r.worker] = seen.get(r.worker, 0) + 1

    with ThreadPoolExecutor(threads) as pool:
        while True:
            with lock:
                done = sent >= MAX_TRIES or (set(seen) >= want and min(seen.values()) >= 2)
            if done:
                break
            for f in [pool.submit(one) for _ in range(threads)]:
                f.result()
    assert set(seen) == want, f"after {sent} requests only workers {sorted(seen)} answered of {sorted(want)}"
    return seen


def _start(store: Path | str, log: Path, *, workers: int, env: dict[str, str] | None = None,
           cwd: Path = ROOT) -> Served:
    port = _free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith("RISKMAP_")}
    full.update({"RISKMAP_WORKER_HEADER": "1", "PYTHONUNBUFFERED": "1", **(env or {})})
    full["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))
    fh = log.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "dashboard", "--store", str(store), "--port", str(port),
                             "--host", "127.0.0.1", "--workers", str(workers)],
                            cwd=cwd, env=full, stdout=fh, stderr=subprocess.STDOUT)
    fh.close()
    served = Served(proc, port, store, log)
    for _ in range(900):   # up to about 3 minutes on a loaded machine: the master binds, the workers build the app
        if proc.poll() is not None:
            pytest.fail(f"python -m dashboard exited with {proc.returncode}:\n{served.log_text()[-3000:]}")
        try:
            if served.call("GET", "/healthz", timeout=5).status == 200 and len(served.workers()) == workers:
                return served
        except OSError:
            pass
        time.sleep(0.2)
    _stop(served)
    pytest.fail(f"the app did not answer /healthz:\n{served.log_text()[-3000:]}")


def _stop(served: Served) -> None:
    if served.proc.poll() is None:
        served.proc.terminate()         # gunicorn's master: graceful stop of its workers
        try:
            served.proc.wait(60)
        except subprocess.TimeoutExpired:
            served.proc.kill()
            served.proc.wait(10)


@pytest.fixture(scope="module")
def two_workers(demo_store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The small demo city served by 2 gunicorn workers (the key file made beside the store)."""
    folder = tmp_path_factory.mktemp("workers")
    store = folder / "city.gpkg"
    shutil.copyfile(demo_store_path, store)
    served = _start(store, folder / "server.log", workers=2)
    try:
        served.cookie, _ = _login(served)
        yield served
    finally:
        _stop(served)


# -- the secret ----------------------------------------------------------------------------------

def test_workers_refuse_to_start_without_a_key_they_can_share(demo_store_path, tmp_path):
    """The key file cannot be made (its name is taken by a folder, which stops root too): 2 workers refuse, naming
    the setting in both languages, and nothing listens."""
    store = tmp_path / "city.gpkg"
    shutil.copyfile(demo_store_path, store)
    (tmp_path / ".riskmap-secret").mkdir()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKMAP_")}
    r = subprocess.run([sys.executable, "-m", "dashboard", "--store", str(store), "--port", str(port),
                        "--workers", "2"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert "RISKMAP_SECRET_KEY" in r.stderr and "会话密钥" in r.stderr
    assert "2 workers must share one key" in r.stderr
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0     # no server was started


def test_one_worker_without_a_key_file_falls_back_and_several_do_not(tmp_path, caplog):
    from dashboard.secret import SecretKeyUnavailable, session_secret
    from layers.settings import Settings

    (tmp_path / ".riskmap-secret").mkdir()
    one = Settings(store=str(tmp_path / "city.gpkg"))
    assert len(session_secret(one)) == 64 and "sessions end at a restart" in caplog.text
    with pytest.raises(SecretKeyUnavailable, match="RISKMAP_SECRET_KEY"):
        session_secret(Settings(store=str(tmp_path / "city.gpkg"), workers=2))
    assert session_secret(Settings(store=str(tmp_path / "city.gpkg"), workers=2, secret_key="given")) == "given"


def test_workers_starting_at_once_read_one_whole_key(tmp_path):
    """16 processes' worth of first starts at once: one key, 64 hex digits, mode 0600, no leftover temporary file."""
    from dashboard.secret import read_or_make_key

    path = tmp_path / ".riskmap-secret"
    barrier = threading.Barrier(16)

    def start() -> str:
        barrier.wait()
        return read_or_make_key(path)

    with ThreadPoolExecutor(16) as pool:
        keys = list(pool.map(lambda _: start(), range(16)))
    assert len(set(keys)) == 1 and len(keys[0]) == 64 and int(keys[0], 16) >= 0
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [".riskmap-secret"]


def test_a_database_store_keeps_its_key_file_under_the_working_directory(tmp_path, monkeypatch):
    from dashboard.secret import key_file_path
    from layers.settings import Settings

    monkeypatch.chdir(tmp_path)
    assert key_file_path(Settings(store="postgresql://riskmap@localhost/city")) == tmp_path / "data" / ".riskmap-secret"
    assert key_file_path(Settings(store=str(tmp_path / "x" / "c.gpkg"))) == tmp_path / "x" / ".riskmap-secret"


# -- two gunicorn workers ------------------------------------------------------------------------

def test_a_session_made_on_one_worker_is_valid_on_the_other(two_workers: Served):
    cookie, made_on = _login(two_workers, "planner", "demo")
    assert made_on in two_workers.workers()

    def ok(r: Reply) -> None:
        assert r.status == 200, (r.worker, r.status, r.text()[:200])

    seen = _on_both(two_workers, lambda: two_workers.call("GET", "/_dash-dependencies", cookie=cookie), ok)
    assert made_on in seen and len(seen) == 2
    r = two_workers.call("GET", "/_dash-dependencies", cookie="")        # and without it: refused
    assert r.status == 401
    forged = cookie.split("=", 1)[0] + "=" + cookie.split("=", 1)[1][::-1]
    assert two_workers.call("GET", "/_dash-dependencies", cookie=forged).status == 401


def _search(served: Served, text: str) -> Reply:
    body = {"output": "map-search-results.children", "outputs": {"id": "map-search-results", "property": "children"},
            "inputs": [{"id": "map-search", "property": "value", "value": text}],
            "state": [{"id": "url", "property": "search", "value": ""}], "changedPropIds": ["map-search.value"]}
    return served.call("POST", "/_dash-update-component", body=json.dumps(body).encode(),
                       headers={"Content-Type": "application/json"})


def test_data_written_after_both_workers_cached_the_city_is_seen_by_both(two_workers: Served):
    """Both workers answer a search from their cached city; the store is then written (as an import through
    another worker or process would); every answer after the write, from either worker, has the new name."""
    _write_seen_by_both(two_workers)


def test_on_a_postgis_store_too(demo_store_path, pg_url, tmp_path):  # noqa: F811
    """The same on a PostGIS store (the GeoPackage demo city copied in): a session made on one worker is valid
    on the other, a write is seen by both; the key file is made in data/ under the working directory."""
    from layers.store import open_store
    from layers.store.copy import copy_store
    from layers.store.postgis import close_pools

    copy_store(open_store(demo_store_path, create=False), open_store(pg_url))
    close_pools(pg_url)
    served = _start(pg_url, tmp_path / "server.log", workers=2, cwd=tmp_path)
    try:
        served.cookie, made_on = _login(served)
        assert (tmp_path / "data" / ".riskmap-secret").stat().st_mode & 0o777 == 0o600
        seen = _on_both(served, lambda: served.call("GET", "/_dash-dependencies"),
                        lambda r: None if r.status == 200 else pytest.fail(f"{r.worker}: {r.status}"))
        assert made_on in seen
        _write_seen_by_both(served)
    finally:
        _stop(served)
        close_pools(pg_url)


def _write_seen_by_both(served: Served) -> None:
    from layers.store import open_store

    store = open_store(served.store, create=False)
    row = store.read("enterprises", columns=["id", "name"]).iloc[7]
    old_name, new_name = str(row["name"]), f"多进程验证企业{os.getpid()}"

    def finds(name: str) -> Callable[[Reply], None]:
        def check(r: Reply) -> None:
            assert r.status == 200, (r.status, r.text()[:200])
            assert name in r.text(), (r.worker, name, r.text()[:400])
        return check

    _on_both(served, lambda: _search(served, old_name), finds(old_name))   # both hold the old city now
    before = store.data_version()
    with store.transaction() as tx:
        tx.update("enterprises", [row["id"]], {"name": new_name})
    assert store.data_version() != before
    _on_both(served, lambda: _search(served, new_name), finds(new_name))


def test_each_worker_warms_its_own_caches_and_one_builds_the_basemap(two_workers: Served):
    log = two_workers.log_text()
    for pid in two_workers.workers():
        assert f"worker {pid}: warm-up started" in log, log[-2000:]
    assert log.count("basemap missing: building") == 1, log[-3000:]


def test_gunicorn_itself_trusts_no_forwarded_headers(two_workers: Served):
    """Without RISKMAP_BEHIND_PROXY a request claiming https (gunicorn alone would trust it from 127.0.0.1) is
    served as the plain http it came over: tile URLs and the session cookie say so."""
    r = two_workers.call("GET", "/basemap/style.json", headers={"X-Forwarded-Proto": "https"})
    assert r.status == 200
    tiles = json.dumps(json.loads(r.body))
    assert f"http://127.0.0.1:{two_workers.port}/tiles/" in tiles and "https://" not in tiles
    r = two_workers.call("POST", "/login", body=b"username=admin&password=demo&next=/", cookie="",
                         headers={"Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-Proto": "https"})
    assert r.status == 302 and "secure" not in r.headers["set-cookie"].lower()


def test_behind_a_trusted_proxy_tile_urls_and_cookies_follow_the_forwarded_scheme_and_host(tmp_path, demo_store_path):
    """RISKMAP_BEHIND_PROXY=1 (ProxyFix, one hop): what nginx forwards is what the app names; redirects stay
    relative."""
    from dashboard.app import create_app
    from layers.settings import Settings

    store = tmp_path / "city.gpkg"
    shutil.copyfile(demo_store_path, store)
    app = create_app(Settings(store=str(store), secret_key="k", behind_proxy=True))
    c = app.server.test_client()
    fwd = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "riskmap.example.gov.cn", "X-Forwarded-For": "10.1.2.3"}
    r = c.post("/login", data={"username": "admin", "password": "demo", "next": "/coverage"}, headers=fwd)
    assert r.status_code == 302 and r.headers["Location"] == "/coverage"
    cookie = r.headers["Set-Cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "domain=" not in cookie
    r = c.get("/basemap/style.json", headers=fwd)
    assert r.status_code == 200
    assert "https://riskmap.example.gov.cn/tiles/" in json.dumps(r.get_json())
    c2 = app.server.test_client()
    r = c2.get("/coverage", headers=fwd)
    assert r.status_code == 302 and r.headers["Location"] == "/login?next=/coverage"
