/* The command-centre wall (/wall): clientside helpers. Dash loads every assets/*.js on every page, so
 * everything here is guarded by the wall's own elements and does nothing elsewhere. */
(function () {
  "use strict";
  var KIND = "riskmap-deck";

  function wallRoot() { return document.getElementById("wall"); }

  /* Tell the 3D view (same-origin iframe) which area to show and which data version is current. */
  function toDeck(focus, state) {
    var f = focus || {};
    var msg = {kind: KIND, focus: f.town || f.district || null,
               version: state && state.version !== undefined ? state.version : null};
    window.__riskmapWallFocus = msg;
    var frame = document.getElementById("wall-deck");
    if (frame && frame.contentWindow) {
      frame.contentWindow.postMessage(msg, window.location.origin);
    }
    return msg.focus || "";
  }

  /* The screen size, so the server draws the map's text to match (a 4K wall gets larger labels), and the
   * map's and its key's pixel sizes (mw, mh; lw, lh measured from the map's top right corner), so the server
   * fits the focused area inside the map and clear of the key (fitBounds with the key as padding). */
  function viewport() {
    var v = {h: window.innerHeight, w: window.innerWidth};
    var m = document.getElementById("wall-map");
    var key = document.getElementById("wall-legend-box");
    if (m && m.clientWidth > 0 && m.clientHeight > 0) {
      var mr = m.getBoundingClientRect();
      v.mw = Math.round(mr.width); v.mh = Math.round(mr.height); v.lw = 0; v.lh = 0;
      if (key) {
        var kr = key.getBoundingClientRect();
        if (kr.width > 0) {
          v.lw = Math.round(Math.max(0, mr.right - kr.left)); v.lh = Math.round(Math.max(0, kr.bottom - mr.top));
        }
      }
    }
    return v;
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    riskmapWall: {toDeck: toDeck, viewport: viewport}
  });

  /* The 3D view starts as soon as the wall's frame is there: its page asks for its data at once and runs
   * deck.gl only after drawing its 2D picture, so it uses the seconds in which the map waits for the server
   * (measured: the 3D drawn seconds earlier, the map not later; benchmarks/bench_wall3d.py). */
  function startDeck() {
    var frame = document.getElementById("wall-deck");
    var src = frame && frame.getAttribute("data-src");
    if (src && !frame.getAttribute("src")) { frame.setAttribute("src", src); }
  }

  /* Timing marker for benchmarks and tests: window.__wallReady and #wall[data-ready="1"] once the map has
   * been drawn. Reset when the wall is left (single-page navigation). */
  function markReady() {
    var root = wallRoot();
    if (!root) { window.__wallReady = false; return; }
    startDeck();
    if (root.getAttribute("data-ready") === "1") { return; }
    var gd = document.querySelector("#wall-map .js-plotly-plot");
    var drawn = gd && gd._fullData && gd.querySelector(".main-svg") &&
      (gd._fullData.length === 0 || gd.querySelector(".cartesianlayer .trace, .gl-container canvas"));
    if (drawn) {
      root.setAttribute("data-ready", "1");
      window.__wallReady = true;
      if (window.performance && performance.mark) { performance.mark("wall-ready"); }
      startDeck();
    }
  }
  window.__wallReady = false;
  setInterval(markReady, 100);
})();

/* <html lang> follows the page's language after a client-side move (the server sets it on a full load): the
 * browser and MapLibre then pick Chinese or Latin glyph forms. Dash's router moves with history.pushState. */
(function () {
  "use strict";
  function setLang() {
    var el = document.documentElement;
    var lang = new URLSearchParams(window.location.search).get("lang");
    var want = lang === "en" ? "en" : (lang === "zh" ? "zh-CN" : (el.getAttribute("data-default-lang") || el.lang));
    if (want && el.lang !== want) { el.lang = want; }
  }
  var push = window.history.pushState;
  window.history.pushState = function () { var r = push.apply(this, arguments); setLang(); return r; };
  window.addEventListener("popstate", setLang);
  setLang();
})();
