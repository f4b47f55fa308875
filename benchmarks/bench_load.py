"""Issue 14's load figure: simulated users against ``python -m dashboard --workers N`` on 127.0.0.1.

    python benchmarks/bench_load.py                    # 60 users for 5 minutes, 2 workers then 1, demo city
    python benchmarks/bench_load.py --quick            # 8 users for 20 s (CI smoke run), a smaller city
    python benchmarks/bench_load.py --store postgresql://user@127.0.0.1/riskmap   # the same on a PostGIS store too
    python benchmarks/bench_load.py --only postgis --store postgresql://…   # the PostGIS store only

What a user does: **log in** once (``GET /login``, ``POST /login``: a PBKDF2 password check of 600,000 rounds
and a session written to the store; a session lasts a shift, so a user does not log in again every minute),
then over and over until the time is up, a pause of ``--think`` seconds ± 50 % after each step (seeded per
user; users are ``admin`` and ``command`` in turn, city-wide, so every recorded request is theirs to make;
they arrive over the first 30 s, at most a quarter of the run) ·
**open /** (the page, ``/_dash-layout``, ``/_dash-dependencies`` and the callbacks the page fires) · **drill** to
a district (picked in the district filter: the filter's callback and the page redrawn for ``?district=…``) ·
**hover** (the mouse over the district's map: the tooltip callbacks it fired, up to 5) · **open /coverage** (from
the menu: the callbacks it fires) · **move the date** (the coverage callbacks that take the date, sent again with
the date 30 days earlier). All but the last are recorded once, before the first measured run, in headless
Chromium (Playwright: the requests the browser sends, bodies as sent), doing what a person does; then they are
replayed with ``http.client``, one thread and one kept-alive connection per user (a browser keeps its
connections; one the server closed is opened again). Static files and basemap tiles are not asked for: a
browser has them cached after its first visit. Each configuration first runs 15 s unmeasured (at most 8 users).

Printed per configuration: requests, p50 / p95 / max of every request, errors (a status of 400 or more, or no
answer within 60 s), requests per worker (``RISKMAP_WORKER_HEADER=1`` names the answering process) and the
server's memory: RSS of every process of the server (master, workers and their Arrow helper processes) summed,
sampled each second (peak and last); and the server's CPU time (all its processes) per request and how many
cores it kept busy, which says more than latency on a shared machine. The peer figure from the same run is 1
worker against 2 (the ratio of their p95). Targets (issue 14): p95 < 1 s and no errors with 60 users on 2
workers. Figures are printed, never asserted. The server and the users share this machine's 2 cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
HOST = "127.0.0.1"           # the only address this benchmark sends to
REQUEST_TIMEOUT_S = 60.0
USERS = ("admin", "command")  # city-wide users: every recorded request is theirs to make
STEPS = ("login", "open", "drill", "hover", "coverage", "date")


# --------------------------------------------------------------------------------------------------
# the server
# --------------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def tree(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc)."""
    parents: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(parents.get(p, []))
    return out


def cpu_s(pids: list[int]) -> float:
    """CPU seconds (user + system) the processes have used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def rss_mb(pids: list[int]) -> float:
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    log: Path
    workers: int

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def start_server(store: str, workers: int, folder: Path, *, demo_enterprises: int) -> Server:
    """``python -m dashboard`` on a free port of 127.0.0.1; returns when every worker has warmed its caches and the
    basemap is there (at most 10 minutes)."""
    port = free_port()
    log = folder / f"server-{workers}w.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RISKMAP_")}
    env.update({"RISKMAP_WORKER_HEADER": "1", "RISKMAP_DEMO_ENTERPRISES": str(demo_enterprises),
                "RISKMAP_SECRET_KEY": "bench-load-" + os.urandom(8).hex(), "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))})
    with log.open("wb") as fh:   # run in the benchmark's folder: a database store's data/ (basemap) goes there
        proc = subprocess.Popen([sys.executable, "-m", "dashboard", "--store", store, "--host", HOST,
                                 "--port", str(port), "--workers", str(workers)],
                                cwd=folder, env=env, stdout=fh, stderr=subprocess.STDOUT)
    srv = Server(proc, port, log, workers)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{srv.text()[-2000:]}")
        log_text = srv.text()
        if log_text.count("caches warmed for data version") >= workers and (
                "basemap built" in log_text or "basemap missing" not in log_text):
            return srv
        time.sleep(0.5)
    srv.stop()
    raise RuntimeError(f"server not ready in 10 minutes:\n{srv.text()[-2000:]}")


# --------------------------------------------------------------------------------------------------
# the requests: recorded once in Chromium
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Req:
    method: str
    path: str
    body: bytes | None = None
    content_type: str | None = None

    @property
    def kind(self) -> str:
        """What the request asks: the callback's output, or the method and path."""
        if self.body and self.path.startswith("/_dash-update-component"):
            try:
                return str(json.loads(self.body).get("output", "?")).strip(".").split("@")[0][:48]
            except ValueError:
                return "?"
        return f"{self.method} {self.path.split('?')[0]}"


def _idle(page, inflight: list[int], *, quiet_s: float = 3.0, limit_s: float = 180.0) -> None:
    """Wait until the page has had no Dash request in flight for ``quiet_s`` (at most ``limit_s``)."""
    t0 = time.monotonic()
    calm_since = None
    while time.monotonic() - t0 < limit_s:
        page.wait_for_timeout(100)
        if inflight[0] == 0:
            calm_since = calm_since or time.monotonic()
            if time.monotonic() - calm_since >= quiet_s:
                return
        else:
            calm_since = None


HOVERS_KEPT = 5   # hover callbacks of one hover step (a mouse crossing points fires one per point)


def record(base: str) -> tuple[dict[str, list[Req]], str]:
    """What headless Chromium sends, logged in as admin, as a person does it: ``/`` after the login, a district
    picked in the filter, the mouse moved over the map until tooltips are asked for, the coverage page opened
    from the menu. Returns the requests per step (page loads as GETs) and the district's code."""
    from playwright.sync_api import sync_playwright

    phase = ["login"]
    got: dict[str, list[Req]] = {"login": [], "open": [], "drill": [], "hover": [], "coverage": []}
    inflight = [0]

    def on_request(r) -> None:  # noqa: ANN001
        u = urlsplit(r.url)
        if f"{u.scheme}://{u.netloc}" != base or u.path.startswith("/login"):
            return
        path = u.path + (f"?{u.query}" if u.query else "")
        if u.path == "/_dash-update-component":
            inflight[0] += 1
            got[phase[0]].append(Req("POST", path, (r.post_data or "").encode(), "application/json"))
        elif (r.resource_type == "document" and r.method == "GET") or u.path in ("/_dash-layout",
                                                                                  "/_dash-dependencies"):
            got[phase[0]].append(Req("GET", path))

    def on_done(r) -> None:  # noqa: ANN001
        if urlsplit(r.url).path == "/_dash-update-component":
            inflight[0] -= 1

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        ctx = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
        page = ctx.new_page()
        page.on("request", on_request)
        page.on("requestfinished", on_done)
        page.on("requestfailed", on_done)
        page.goto(f"{base}/login")
        page.fill("#login-username", "admin")
        page.fill("#login-password", "demo")
        phase[0] = "open"
        page.click("#login-submit")
        page.wait_for_url(lambda url: "/login" not in url)
        _idle(page, inflight)
        phase[0] = "drill"
        page.click(".f-district .dash-dropdown-trigger")
        page.locator("[role=option]").first.click()
        page.wait_for_url(lambda url: "district=" in url)
        _idle(page, inflight)
        district = page.url.split("district=", 1)[1].split("&", 1)[0]
        phase[0] = "hover"
        box = page.locator("#map-graph").bounding_box()
        for i in range(400):     # a walk over the map until tooltips of objects were asked for
            page.mouse.move(box["x"] + box["width"] * (0.15 + 0.7 * ((i * 37) % 100) / 100),
                            box["y"] + box["height"] * (0.15 + 0.7 * ((i * 61) % 100) / 100), steps=2)
            page.wait_for_timeout(40)
            if sum(b'"customdata":"enterprises:' in (r.body or b"") for r in got["hover"]) >= HOVERS_KEPT:
                break
        _idle(page, inflight)
        phase[0] = "coverage"
        page.mouse.move(5, 5)
        page.click("a[href^='/coverage']")
        page.wait_for_url(lambda url: "/coverage" in url)
        _idle(page, inflight)
        browser.close()
    tips = [r for r in got["hover"] if b"hoverData" in (r.body or b"") and b'"customdata":"' in (r.body or b"")]
    got["hover"] = tips[:HOVERS_KEPT]
    del got["login"]
    return got, district


def scenario(recorded: dict[str, list[Req]]) -> dict[str, list[Req]]:
    """Every step's requests: the recorded ones; the login; and the date move, made from the recorded coverage
    callbacks that take a date (the same requests with the date 30 days earlier)."""
    steps: dict[str, list[Req]] = {"login": [Req("GET", "/login"), Req("POST", "/login")], **recorded}
    moved = []
    for r in recorded["coverage"]:
        if r.method != "POST":
            continue
        body = json.loads(r.body)
        dated = [i for i in body.get("inputs", []) if isinstance(i, dict) and i.get("property") == "date"
                 and isinstance(i.get("value"), str)]
        if dated:
            for i in dated:
                i["value"] = (date.fromisoformat(i["value"][:10]) - timedelta(days=30)).isoformat()
            body["changedPropIds"] = [f"{dated[0]['id']}.date"]
            moved.append(Req("POST", r.path, json.dumps(body).encode(), "application/json"))
    steps["date"] = moved
    return {s: steps[s] for s in STEPS}


# --------------------------------------------------------------------------------------------------
# the users
# --------------------------------------------------------------------------------------------------

@dataclass
class Tally:
    times: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    errors: Counter = field(default_factory=Counter)
    workers: Counter = field(default_factory=Counter)
    kinds: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class User(threading.Thread):
    """One simulated user: the steps in order, a pause between them, until ``stop_at``."""

    def __init__(self, n: int, base: str, steps: dict[str, list[Req]], tally: Tally | None, *, stop_at: float,
                 think_s: float):
        super().__init__(daemon=True, name=f"user-{n}")
        self.user = USERS[n % len(USERS)]
        self.base, self.steps, self.tally, self.stop_at, self.think_s = base, steps, tally, stop_at, think_s
        self.rng = random.Random(n)
        self.con: http.client.HTTPConnection | None = None
        self.cookie = ""

    def _send(self, req: Req) -> tuple[int, dict[str, str], bytes]:
        body = req.body
        if req.path == "/login" and req.method == "POST":
            body = urlencode({"username": self.user, "password": "demo", "next": "/"}).encode()
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if req.method == "POST":
            headers["Content-Type"] = req.content_type or "application/x-www-form-urlencoded"
        for attempt in (0, 1):   # a kept-alive connection the server has closed: open a new one, once
            if self.con is None:
                self.con = http.client.HTTPConnection(HOST, urlsplit(self.base).port, timeout=REQUEST_TIMEOUT_S)
            reused = self.con.sock is not None
            try:
                self.con.request(req.method, req.path, body=body, headers=headers)
                r = self.con.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.con.close()
                    self.con = None
                return r.status, {k.lower(): v for k, v in r.getheaders()}, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.con.close()
                self.con = None
                if attempt or not reused:
                    raise
        raise AssertionError("unreachable")

    def run(self) -> None:
        """Log in once (a session lasts a shift), then the other steps over and over, a pause after each."""
        self._step("login")
        while time.monotonic() < self.stop_at:
            for step in STEPS[1:]:
                if not self._step(step):
                    return
                pause = self.think_s * self.rng.uniform(0.5, 1.5)
                if time.monotonic() + pause >= self.stop_at:
                    return
                time.sleep(pause)

    def _step(self, step: str) -> bool:
        """Send the step's requests in order (as the page sends them); False when the time ran out."""
        for req in self.steps[step]:
            if time.monotonic() >= self.stop_at:
                return False
            t0 = time.perf_counter()
            try:
                status, headers, _ = self._send(req)
                error = f"HTTP {status}" if status >= 400 else None
            except (OSError, http.client.HTTPException) as exc:
                status, headers, error = 0, {}, type(exc).__name__
                self.con = None
            dt = time.perf_counter() - t0
            if req.path == "/login" and req.method == "POST" and status == 302:
                self.cookie = headers.get("set-cookie", "").split(";", 1)[0]
            if self.tally is not None:
                with self.tally.lock:
                    self.tally.times[step].append(dt)
                    self.tally.kinds.setdefault(f"{step}: {req.kind}", []).append(dt)
                    if error:
                        self.tally.errors[f"{step} {req.path.split('?')[0]}: {error}"] += 1
                    if headers.get("x-riskmap-worker"):
                        self.tally.workers[headers["x-riskmap-worker"]] += 1
        return True


def drive(server: Server, steps: dict[str, list[Req]], *, users: int, seconds: float, think_s: float,
          measure: bool = True) -> dict:
    tally = Tally() if measure else None
    stop_at = time.monotonic() + seconds
    crowd = [User(n, server.base, steps, tally, stop_at=stop_at, think_s=think_s) for n in range(users)]
    memory: list[float] = []
    cpu0, wall0 = cpu_s(tree(server.proc.pid)), time.monotonic()
    ramp = min(30.0, seconds / 4)   # people arrive over the first half minute, not in one millisecond
    for u in crowd:
        u.start()
        time.sleep(ramp / max(users, 1))
    while any(u.is_alive() for u in crowd):
        memory.append(rss_mb(tree(server.proc.pid)))
        time.sleep(1.0)
    for u in crowd:
        u.join(REQUEST_TIMEOUT_S + 5)
    cpu, wall = cpu_s(tree(server.proc.pid)) - cpu0, time.monotonic() - wall0
    if tally is None:
        return {}
    every = sorted(t for ts in tally.times.values() for t in ts)
    return {"requests": len(every), "errors": sum(tally.errors.values()), "error_kinds": tally.errors,
            "p50": _q(every, 0.50), "p95": _q(every, 0.95), "max": every[-1] if every else float("nan"),
            "steps": {s: (len(ts), _q(sorted(ts), 0.5), _q(sorted(ts), 0.95)) for s, ts in tally.times.items()},
            "slowest": sorted(((k, len(ts), _q(sorted(ts), 0.5), _q(sorted(ts), 0.95)) for k, ts in tally.kinds.items()),
                              key=lambda x: -x[3])[:6],
            "workers": dict(tally.workers), "rss_peak": max(memory, default=0.0),
            "rss_last": memory[-1] if memory else 0.0, "seconds": seconds, "cpu_s": cpu, "cores": cpu / wall}


def _q(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def report(label: str, r: dict) -> None:
    print(f"  {label}: {r['requests']:,} requests in {r['seconds']:.0f} s ({r['requests'] / r['seconds']:.1f}/s), "
          f"p50 {r['p50'] * 1000:.0f} ms, p95 {r['p95'] * 1000:.0f} ms, max {r['max'] * 1000:.0f} ms, "
          f"errors {r['errors']}, server RSS summed: peak {r['rss_peak']:.0f} MB, last {r['rss_last']:.0f} MB",
          flush=True)
    print(f"    server CPU: {r['cpu_s']:.0f} s ({r['cores']:.2f} cores busy on average), "
          f"{r['cpu_s'] * 1000 / max(r['requests'], 1):.0f} ms a request", flush=True)
    print("    per step (requests, p50, p95): " + "; ".join(
        f"{s} {n} {p50 * 1000:.0f}/{p95 * 1000:.0f} ms" for s, (n, p50, p95) in r["steps"].items()), flush=True)
    print("    slowest requests (p95): " + "; ".join(
        f"{k} x{n} {p50 * 1000:.0f}/{p95 * 1000:.0f} ms" for k, n, p50, p95 in r["slowest"]), flush=True)
    print(f"    requests per worker (pid): {r['workers']}", flush=True)
    for kind, n in r["error_kinds"].most_common(8):
        print(f"    error x{n}: {kind}", flush=True)


# --------------------------------------------------------------------------------------------------

def run_store(label: str, store: str, folder: Path, *, users: int, seconds: float, think_s: float,
              demo_enterprises: int, steps: dict[str, list[Req]] | None) -> tuple[dict[int, dict], dict | None]:
    """Both worker counts on one store; returns {workers: result} and the steps used."""
    results: dict[int, dict] = {}
    for workers in (2, 1):
        t0 = time.perf_counter()
        try:
            srv = start_server(store, workers, folder, demo_enterprises=demo_enterprises)
        except RuntimeError as exc:
            print(f"  {label}, {workers} worker(s): not started: {exc}", flush=True)
            continue
        try:
            print(f"  {label}, {workers} worker(s): ready in {time.perf_counter() - t0:.0f} s "
                  f"(RSS summed {rss_mb(tree(srv.proc.pid)):.0f} MB)", flush=True)
            if steps is None:
                steps = _steps_for(srv)
            drive(srv, steps, users=min(users, 8), seconds=min(15.0, seconds), think_s=think_s, measure=False)
            results[workers] = drive(srv, steps, users=users, seconds=seconds, think_s=think_s)
            report(f"{label}, {workers} worker(s), {users} users", results[workers])
        finally:
            srv.stop()
    if 1 in results and 2 in results:
        a, b = results[2], results[1]
        print(f"  {label}: 1 worker vs 2 workers: p95 {b['p95'] * 1000:.0f} vs {a['p95'] * 1000:.0f} ms "
              f"({b['p95'] / a['p95']:.2f}x), requests {b['requests']:,} vs {a['requests']:,}, "
              f"RSS peak {b['rss_peak']:.0f} vs {a['rss_peak']:.0f} MB", flush=True)
        ok = a["p95"] < 1.0 and a["errors"] == 0
        print(f"  target (60 users, 2 workers: p95 < 1 s, 0 errors): {'met' if ok else 'NOT met'} at {users} users",
              flush=True)
    return results, steps


def _steps_for(srv: Server) -> dict[str, list[Req]]:
    t0 = time.perf_counter()
    recorded, district = record(srv.base)
    steps = scenario(recorded)
    print(f"  recorded in Chromium in {time.perf_counter() - t0:.0f} s (district {district}): " + ", ".join(
        f"{k} {len(v)}" for k, v in steps.items()) + " requests", flush=True)
    missing = [k for k, v in steps.items() if not v]
    if missing:
        print(f"  note: no request recorded for {missing}", flush=True)
    return steps


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="8 users for 20 s on a 1,000-enterprise city")
    p.add_argument("--users", type=int)
    p.add_argument("--seconds", type=float)
    p.add_argument("--think", type=float, default=1.0, help="mean pause between a user's steps, seconds")
    p.add_argument("--store", help="also run on this store (a postgresql:// URL); the demo city is made there "
                                   "when it holds none")
    p.add_argument("--enterprises", type=int, help="enterprises of the demo city (default 5,000; --quick 1,000)")
    p.add_argument("--only", choices=("gpkg", "postgis"), help="one store only (postgis needs --store)")
    a = p.parse_args(argv)
    if a.only == "postgis" and not a.store:
        p.error("--only postgis needs --store postgresql://…")
    users = min(a.users or (8 if a.quick else 60), 200)
    seconds = min(a.seconds or (20.0 if a.quick else 300.0), 1800.0)
    n = a.enterprises or (1000 if a.quick else 5000)
    print(f"load: {users} users for {seconds:.0f} s each, think {a.think:g} s, demo city of {n:,} enterprises; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        folder = Path(tmp)
        steps = None
        if a.only != "postgis":
            gpkg = folder / "city.gpkg"
            from layers.demo.city import build_demo_store

            t0 = time.perf_counter()
            build_demo_store(gpkg, enterprises=n, seed=7)
            print(f"  demo city built in {time.perf_counter() - t0:.0f} s", flush=True)
            _, steps = run_store("GeoPackage", str(gpkg), folder, users=users, seconds=seconds, think_s=a.think,
                                 demo_enterprises=n, steps=None)
        if a.store and a.only != "gpkg":
            pg = folder / "pg"
            pg.mkdir()
            run_store("PostGIS", a.store, pg, users=users, seconds=seconds, think_s=a.think, demo_enterprises=n,
                      steps=steps)   # the same demo city (seed and size): the same requests (recorded here
            # when the GeoPackage run was skipped)
        shutil.rmtree(folder, ignore_errors=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
