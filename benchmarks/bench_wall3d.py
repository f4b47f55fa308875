"""Issue 13's numbers for the wall's 3D panel (``/wall``, deck.gl in ``/wall/deck``), against the plain pydeck way.

    python benchmarks/bench_wall3d.py            # demo city (5,000 enterprises) at 1920x1080 and 3840x2160
    python benchmarks/bench_wall3d.py --quick    # 1920x1080 only (CI smoke test)

In headless Chromium, from navigation to ``/wall`` (logged in, a new browser each time, so the deck.gl bundle is
fetched and parsed and its shaders compiled as on a wall that has just started):

* **2D map drawn** (``window.__wallReady``),
* **3D panel's 2D picture** (the frame's plain-canvas picture of the hexagons, gas lines and areas:
  ``data-deck-preview``),
* **3D drawn** (deck.gl's first frame: ``data-deck-drawn``); target under 5 s (issue 13),

twice per screen size: against a served app whose warm-up has run (``python -m dashboard`` warms the city, its
coverage and the wall's 3D data after a start and after each import: the wall of a command centre opens on a
running server), and with the 3D data not made yet (the first wall on a new data version before its warm-up),

each read from the pages' own timing marks (``performance.mark``) as seconds from the navigation's start,

and the **plain pydeck way** from the same run: the same hexagons and gas network as ``pydeck.Deck(...).to_html``
(records with every field, rounded caps and joints, pydeck's JSON writer), served locally with the same
bundle, from navigation to deck.gl's canvas drawn. Ratio plain/ours on the time from navigation to the 3D.
Also the data's size (ours as the route sends it; plain as pydeck writes it).

Headless Chromium here draws WebGL in software (no GPU); the figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_map import ARGS, CHROMIUM, WALL_READY, Server, store_for  # noqa: E402

FRAME = "() => { const f = document.getElementById('wall-deck'); return f && f.contentDocument && f.contentDocument.body; }"
PREVIEW = "() => { const b = (" + FRAME + ")(); return !!(b && b.getAttribute('data-deck-preview') === '1'); }"
DRAWN = "() => { const b = (" + FRAME + ")(); return !!(b && b.getAttribute('data-deck-drawn') === '1'); }"
PLAIN_DRAWN = "() => !!document.querySelector('canvas') && window.__drawn === true"
#: the pages' own timing marks, in seconds from the navigation's start (``performance.timeOrigin`` of the wall):
#: the wall's ``wall-ready`` and the 3D frame's ``deck-preview`` and ``deck-drawn``. Read from the page's
#: timeline, not from when a poll from here first saw them: on a busy machine the poll itself lags by seconds.
MARKS = """() => { const f = document.getElementById('wall-deck'); const pf = f.contentWindow.performance;
  const off = pf.timeOrigin - performance.timeOrigin, out = {};
  for (const e of pf.getEntriesByType('mark')) { if (!(e.name in out)) out[e.name] = (e.startTime + off) / 1000; }
  out['wall-ready'] = performance.getEntriesByName('wall-ready')[0].startTime / 1000;
  return out; }"""


def ours(pw, base: str, size: tuple[int, int]) -> dict[str, float]:
    b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    page = b.new_page(viewport={"width": size[0], "height": size[1]})
    page.set_default_timeout(300_000)
    page.goto(f"{base}/login?next=/healthz")
    page.fill("#login-username", "admin")
    page.fill("#login-password", "demo")
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")
    page.goto(base + "/wall", wait_until="commit")
    for cond in (WALL_READY, PREVIEW, DRAWN):
        page.wait_for_function(cond, polling=200)
    marks = page.evaluate(MARKS)
    b.close()
    return {"map": marks["wall-ready"], "preview": marks["deck-preview"], "drawn": marks["deck-drawn"],
            "data": marks["deck-data"], "bundle": marks["deck-bundle"]}


def plain(pw, payload: dict, size: tuple[int, int], tmp: Path) -> tuple[float, int]:
    """pydeck's own HTML of the same layers (every field per record), served locally with the same bundle."""
    import pydeck as pdk

    from dashboard.components import deck

    hexes = payload["deck"]["layers"][[lay["id"] for lay in payload["deck"]["layers"]].index("risk-hex")]["data"]
    gas = payload["deck"]["layers"][[lay["id"] for lay in payload["deck"]["layers"]].index("gas")]["data"]
    top = max((h["risk"] for h in hexes), default=1.0)
    layers = [pdk.Layer("PathLayer", data=gas, get_path="path", get_color="color", get_width="width",
                        width_units=pdk.types.String("pixels"), width_min_pixels=1, cap_rounded=True,
                        joint_rounded=True),
              pdk.Layer("H3HexagonLayer", data=hexes, get_hexagon="hex", get_fill_color="color",
                        get_elevation="risk", elevation_scale=4000.0 / top, extruded=True, coverage=0.88,
                        pickable=True, auto_highlight=True)]
    d = pdk.Deck(layers=layers, map_provider=None, map_style=None,
                 initial_view_state=pdk.ViewState(**deck.fit_view(payload["bounds"])))
    spec = d.to_json()
    # pydeck's own notebook bundle, as pydeck's HTML uses it (ours is deck.gl's standalone build: deck.bundle_bytes)
    (tmp / "deckgl.js").write_bytes((Path(pdk.__file__).parent / "nbextension" / "static" / "index.js").read_bytes())
    (tmp / "plain.html").write_text(f"""<!doctype html><html><body style="margin:0;background:#050b14">
<div id="c" style="position:absolute;inset:0"></div><script src="deckgl.js"></script><script>
const d = createDeck({{container: document.getElementById('c'), jsonInput: {spec}}});
d.setProps({{onAfterRender: () => {{ if (!window.__drawn) performance.mark('drawn'); window.__drawn = true; }}}});
</script></body></html>""", encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):  # noqa: ANN002
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        # the wall's 3D panel is about a quarter of the screen's width and a third of its height
        page = b.new_page(viewport={"width": size[0] * 26 // 100, "height": size[1] * 34 // 100})
        page.set_default_timeout(300_000)
        page.goto(f"http://127.0.0.1:{srv.server_port}/plain.html", wait_until="commit")
        page.wait_for_function(PLAIN_DRAWN, polling=200)
        dt = page.evaluate("performance.getEntriesByName('drawn')[0].startTime / 1000")
        b.close()
    finally:
        srv.shutdown()
    return dt, len(spec.encode())


def main(argv: list[str]) -> int:
    import logging

    import flask
    from playwright.sync_api import sync_playwright

    from dashboard import warmup
    from dashboard.app import create_app
    from layers import access
    from layers.settings import Settings
    from layers.store import open_store

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1920x1080 only")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "riskmap-bench"))
    args = ap.parse_args(argv)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    path = store_for(5000, args.seed, cache)
    settings = Settings(store=str(path), secret_key="bench", wall_refresh_s=3600)
    app = create_app(settings)
    server = Server(app.server)
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    wall = next(m for n, m in sys.modules.items() if n.endswith("pages.wall"))
    with app.server.test_request_context("/"):
        store = open_store(path, create=False)
        flask.session["sid"] = access.start_session(store, access.authenticate(store, "admin", "demo"))
        payload = wall.deck_payload("zh")
    ours_bytes = len(json.dumps({"ok": True, **payload}, separators=(",", ":")).encode())
    sizes = [(1920, 1080)] if args.quick else [(1920, 1080), (3840, 2160)]
    print("## the wall's 3D panel, demo city of 5,000 enterprises (navigation -> …, a new browser each time)")
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
            for size in sizes:
                p, plain_bytes = plain(pw, payload, size, Path(tmp))
                for served in (True, False):
                    wall._DECK_JOBS.clear()
                    wall._deck_payload.cache_clear()
                    if served:   # as `python -m dashboard` runs: the warm-up after the start (or an import) is done
                        warmup.warm_once(settings)
                    else:        # the first wall on this data version before the warm-up has made the 3D data
                        pass
                    o = ours(pw, base, size)
                    what = "served app, warmed up  " if served else "3D data not made yet   "
                    print(f"  {size[0]}x{size[1]} {what}: 2D map {o['map']:5.2f} s, 3D panel's 2D picture "
                          f"{o['preview']:5.2f} s, 3D drawn {o['drawn']:5.2f} s (target < 5 s)   plain pydeck page "
                          f"{p:5.2f} s   ratio plain/ours {p / o['drawn']:.2f}   (3D data in {o['data']:.2f} s,"
                          f" deck.gl run {o['bundle']:.2f} s)", flush=True)
            print(f"  data: ours {ours_bytes / 1e6:.2f} MB, plain pydeck JSON {plain_bytes / 1e6:.2f} MB"
                  f"   ratio {plain_bytes / ours_bytes:.2f}")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
