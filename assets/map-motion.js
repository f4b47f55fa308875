/* Smooth zooming and panning, and a quick first picture, where WebGL runs in software (SwiftShader, llvmpipe,
   Microsoft's Basic Render Driver: a PC or VDI desktop without a graphics driver, and headless Chromium).

   There every frame MapLibre draws costs the page's main thread the frame's whole software rendering: the
   compositor is software too, so Chromium reads each WebGL frame back (GLES2::ReadPixels in a trace) and waits
   for it. Two things follow.

   * Moving: the frame time is bound by the pixels filled (a 1600x1000 map draws about 5 frames a second while
     zooming, a quarter of the pixels about four times as many). So while a map moves it is drawn at half
     resolution (MapLibre's pixel ratio), and at full resolution again 150 ms after it stops.
   * Loading: MapLibre draws a frame for every tile and every plotly trace source that arrives, 7 to 9 frames
     for the demo city's map, each of them a full software render, before the last one shows the finished map.
     So a new map is first painted once its style, its tiles and plotly's traces are in (or after HOLD_MAX_MS,
     whatever is missing): one frame instead of eight.

   With a hardware renderer nothing changes. benchmarks/bench_map.py measures both ways in one run.

   window.riskmapMotion: isSoftware(rendererName), state(map) -> {software, ratio, held, skipped, paintedAt,
   paintedComplete, hookedAt};
   off = true disables the half resolution; window.riskmapMotionConfig = {hold: false}, set before this script
   runs, disables holding the first paint. */
(function () {
  "use strict";
  var MOVING_RATIO = 0.5;
  var RESTORE_MS = 150;
  var SOFTWARE = /swiftshader|llvmpipe|softpipe|software|basic render|mesa offscreen/i;
  var HOLD_MAX_MS = 3000;   // a tile that never comes must not keep the map blank
  var config = window.riskmapMotionConfig || {};

  function isSoftware(name) { return SOFTWARE.test(String(name || "")); }

  function rendererOf(map) {
    try {
      var gl = map.painter.context.gl;
      var ext = gl.getExtension("WEBGL_debug_renderer_info");
      return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    } catch (e) {
      return "";
    }
  }

  function setRatio(map, ratio) {   // MapLibre's own setPixelRatio, without the move events its resize() fires
    if (map._overridePixelRatio === ratio) { return; }
    map._overridePixelRatio = ratio;
    if (typeof map._resizeInternal === "function") { map._resizeInternal(); } else { map.resize(); }
    map.triggerRepaint();
  }

  function ready(map, gd) {   // what the first picture needs: the style, its tiles, plotly's traces
    var sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    var traces = !!sub && (Object.keys(sub.traceHash || {}).length > 0 || !(gd.data || []).length);
    return traces && map.isStyleLoaded() && map.areTilesLoaded();
  }

  function holdFirstPaint(map, gd, state) {
    var painter = map.painter, render = painter.render;
    state.held = true;
    state.skipped = 0;
    var release = function () {
      if (!state.held) { return; }
      state.held = false;
      state.paintedComplete = false;
      map.triggerRepaint();
    };
    setTimeout(release, HOLD_MAX_MS);
    painter.render = function (style, options) {
      if (state.held && !ready(map, gd)) {   // MapLibre asks again when the next tile or source arrives
        state.skipped += 1;
        // what render() records first, and other parts of MapLibre read between frames (without it every later
        // frame draws the background only)
        this.style = style;
        this.options = options;
        return undefined;
      }
      if (state.paintedAt === null) {
        state.paintedAt = performance.now();
        state.paintedComplete = state.held;   // false: painted because HOLD_MAX_MS passed, with something missing
      }
      state.held = false;
      return render.apply(this, arguments);
    };
  }

  function hook(map, gd) {
    var state = {software: isSoftware(rendererOf(map)), ratio: null, renderer: rendererOf(map), held: false,
                 skipped: 0, paintedAt: null, paintedComplete: null, hookedAt: performance.now()};
    map.__riskmapMotion = state;
    if (!state.software) { return; }
    if (config.hold !== false) { holdFirstPaint(map, gd, state); }
    var timer = null;
    map.on("movestart", function () {
      if (window.riskmapMotion.off) { return; }
      clearTimeout(timer);
      state.ratio = MOVING_RATIO;
      setRatio(map, MOVING_RATIO);
    });
    map.on("moveend", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { state.ratio = null; setRatio(map, null); }, RESTORE_MS);
    });
  }

  function attach() {   // riskmapEachMap: assets/map-each.js
    window.riskmapEachMap(function (map, gd) { if (!map.__riskmapMotion && map.painter) { hook(map, gd); } });
  }

  window.riskmapMotion = {
    off: false,
    isSoftware: isSoftware,
    state: function (map) { return map && map.__riskmapMotion; },
    attach: attach
  };
  // maps come and go with the pages (Dash renders them after this script). A new map is found in the microtask
  // after its canvas is added, before MapLibre's first frame (a frame request waits for the next animation frame)
  new MutationObserver(attach).observe(document.documentElement, {childList: true, subtree: true});
  setInterval(attach, 500);
})();
