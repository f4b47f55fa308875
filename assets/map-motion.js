/* Smooth zooming and panning where WebGL runs in software (SwiftShader, llvmpipe, Microsoft's Basic Render
   Driver: a PC or VDI desktop without a graphics driver, and headless Chromium). There MapLibre's frame time is
   bound by the pixels it fills: a 1600x1000 map draws about 5 frames a second while zooming, a quarter of the
   pixels about four times as many. So while a map moves it is drawn at half resolution (MapLibre's pixel
   ratio), and at full resolution again 150 ms after it stops: sharp at rest, fluid in motion. With a hardware
   renderer nothing changes. benchmarks/bench_map.py measures both ways in one run.

   window.riskmapMotion: isSoftware(rendererName), state(map) -> {software, ratio}; off = true disables it. */
(function () {
  "use strict";
  var MOVING_RATIO = 0.5;
  var RESTORE_MS = 150;
  var SOFTWARE = /swiftshader|llvmpipe|softpipe|software|basic render|mesa offscreen/i;

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

  function hook(map) {
    var state = {software: isSoftware(rendererOf(map)), ratio: null, renderer: rendererOf(map)};
    map.__riskmapMotion = state;
    if (!state.software) { return; }
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
    window.riskmapEachMap(function (map) { if (!map.__riskmapMotion && map.painter) { hook(map); } });
  }

  window.riskmapMotion = {
    off: false,
    isSoftware: isSoftware,
    state: function (map) { return map && map.__riskmapMotion; },
    attach: attach
  };
  setInterval(attach, 500);   // maps come and go with the pages (Dash renders them after this script)
})();
