/* Smooth zooming and panning, and a quick first picture, where WebGL runs in software (SwiftShader, llvmpipe,
   Microsoft's Basic Render Driver: a PC or VDI desktop without a graphics driver, and headless Chromium).

   There every frame MapLibre draws is a whole software render that the page waits for (the compositor is
   software too, so Chromium reads each WebGL frame back: GLES2::ReadPixels in a trace): 100-200 ms for the
   city map at 1600x1000, whatever its resolution, so redrawing every frame zooms at 4-6 frames a second.

   * Moving: MapLibre's last picture follows the camera. In a frame of a move the canvas is moved and scaled
     (a CSS transform: where the camera now puts that picture's corners, exact while the map is not rotated or
     tilted), and MapLibre's own drawing is skipped; the map is drawn anew, at half resolution, only once the
     last picture covers less than COVER_MIN of the view, is enlarged beyond SCALE_MAX, or is older than
     STALE_MS and no longer covers the whole view sharply. What a moved picture uncovers shows the style's
     background colour. When the move ends the map is drawn at full resolution (after RESTORE_MS if it was
     drawn at half resolution meanwhile). About 45 frames a second instead of 4-6, a few of them drawn.
   * Labels appear at once instead of fading in: each frame of MapLibre's 300 ms fade is a whole render.
   * Loading: MapLibre draws a frame for every tile and every plotly trace source that arrives, 7 to 9 frames
     for the demo city's map, before the last one shows the finished map. So a new map is first painted once
     its style, its tiles and plotly's traces are in (or after HOLD_MAX_MS, whatever is missing): one frame.

   With a hardware renderer nothing changes. benchmarks/bench_map.py measures both ways in one run.

   window.riskmapMotion: isSoftware(rendererName), state(map) -> {software, ratio, held, skipped, paintedAt,
   paintedComplete, hookedAt, drawn, drawnMoving, followed} (drawn: frames MapLibre drew; drawnMoving: of them
   while moving; followed: frames that moved the last picture instead);
   off = true: a moving map is drawn in every frame at full resolution (as MapLibre does by itself);
   window.riskmapMotionConfig, set before this script runs: {hold: false} paints every tile as it comes,
   {fade: true} keeps the labels' fade, movingRatio, coverMin, scaleMax, staleMs override the constants. */
(function () {
  "use strict";
  var MOVING_RATIO = 0.5;
  var RESTORE_MS = 150;
  var SOFTWARE = /swiftshader|llvmpipe|softpipe|software|basic render|mesa offscreen/i;
  var HOLD_MAX_MS = 3000;   // a tile that never comes must not keep the map blank
  var COVER_MIN = 0.6;      // moving: the last picture is redrawn once it covers less of the view than this,
  var SCALE_MAX = 1.6;      // or is enlarged more than this (it blurs),
  var STALE_MS = 400;       // or is this old and no longer covers the whole view sharply (a slow drag, a pause)
  var config = window.riskmapMotionConfig || {};
  if (config.movingRatio) { MOVING_RATIO = config.movingRatio; }
  if (config.coverMin) { COVER_MIN = config.coverMin; }
  if (config.scaleMax) { SCALE_MAX = config.scaleMax; }
  if (config.staleMs) { STALE_MS = config.staleMs; }

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

  function cameraOf(map, canvas) {   // the view a picture was drawn for: its size, rotation and corners
    var w = canvas.clientWidth, h = canvas.clientHeight;
    return {w: w, h: h, bearing: map.getBearing(), pitch: map.getPitch(), tl: map.unproject([0, 0]),
            br: map.unproject([w, h]), at: performance.now()};
  }

  function shiftOf(map, canvas, cam) {   // where that picture's corners are in the view now, and how much it covers
    if (!cam || cam.w !== canvas.clientWidth || cam.h !== canvas.clientHeight || !cam.w || !cam.h ||
        Math.abs(map.getBearing() - cam.bearing) > 1e-6 || Math.abs(map.getPitch() - cam.pitch) > 1e-6) {
      return null;   // resized or rotated: a picture cannot follow by moving and scaling
    }
    var p = map.project(cam.tl), q = map.project(cam.br);
    var k = (q.x - p.x) / cam.w, ky = (q.y - p.y) / cam.h;
    if (!(k > 0) || Math.abs(k - ky) > 1e-3 * k) { return null; }
    var ix = Math.max(0, Math.min(cam.w, q.x) - Math.max(0, p.x));
    var iy = Math.max(0, Math.min(cam.h, q.y) - Math.max(0, p.y));
    return {x: p.x, y: p.y, k: k, cover: (ix * iy) / (cam.w * cam.h), age: performance.now() - cam.at};
  }

  function followable(s) {   // the last picture, moved and scaled, still shows the view well enough
    if (!s || s.cover < COVER_MIN || s.k > SCALE_MAX) { return false; }
    return s.age < STALE_MS || (s.cover > 0.999 && s.k < 1.2);
  }

  function backgroundOf(map) {
    try {
      var layers = map.getStyle().layers || [];
      for (var i = 0; i < layers.length; i++) {
        if (layers[i].type === "background") { return String(map.getPaintProperty(layers[i].id, "background-color")); }
      }
    } catch (e) { /* no style yet */ }
    return "";
  }

  function hook(map, gd) {
    var state = {software: isSoftware(rendererOf(map)), ratio: null, renderer: rendererOf(map), held: false,
                 skipped: 0, paintedAt: null, paintedComplete: null, hookedAt: performance.now(),
                 drawn: 0, drawnMoving: 0, followed: 0};
    map.__riskmapMotion = state;
    if (!state.software) { return; }
    if (config.hold !== false) { holdFirstPaint(map, gd, state); }
    // labels appear at once instead of fading in over 300 ms: every frame of a fade is a whole software render,
    // two or three of them after each move (MapLibre's fadeDuration option, which plotly does not pass on)
    if (config.fade !== true && typeof map._fadeDuration === "number") { map._fadeDuration = 0; }
    var canvas = map.getCanvas(), painter = map.painter, render = painter.render;
    var moving = false, cam = null, timer = null;
    canvas.style.transformOrigin = "0 0";
    painter.render = function (style, options) {
      var s = moving && !window.riskmapMotion.off && cam ? shiftOf(map, canvas, cam) : null;
      if (followable(s)) {   // this frame: the last picture, where the camera now puts it
        canvas.style.transform = "translate(" + s.x + "px," + s.y + "px) scale(" + s.k + ")";
        state.followed += 1;
        this.style = style;     // as the held first paint: what other parts of MapLibre read between frames
        this.options = options;
        return undefined;
      }
      if (moving && !window.riskmapMotion.off && state.ratio !== MOVING_RATIO) {
        state.ratio = MOVING_RATIO;   // a moving map is redrawn at half resolution, in this frame
        map._overridePixelRatio = MOVING_RATIO;
        if (typeof map._resizeInternal === "function") { map._resizeInternal(); }
      }
      canvas.style.transform = "";
      var skipped = state.skipped, out = render.apply(this, arguments);
      if (state.skipped === skipped) {   // drawn (not held back for the first paint)
        cam = cameraOf(map, canvas);
        state.drawn += 1;
        if (moving) { state.drawnMoving += 1; }
      }
      return out;
    };
    if (!container(map).style.backgroundColor) { container(map).style.backgroundColor = backgroundOf(map); }
    map.on("styledata", function () { container(map).style.backgroundColor = backgroundOf(map); });
    map.on("movestart", function () {
      clearTimeout(timer);
      moving = true;
    });
    map.on("moveend", function () {
      moving = false;
      clearTimeout(timer);
      // the last frame may have been a moved picture (a drag ends between frames): draw the view itself
      setTimeout(function () { if (canvas.style.transform !== "") { map.triggerRepaint(); } }, 0);
      timer = setTimeout(function () {
        if (state.ratio !== null) { state.ratio = null; setRatio(map, null); }
      }, RESTORE_MS);
    });
  }

  function container(map) { return map.getContainer(); }   // behind the canvas: what a moved picture uncovers

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
