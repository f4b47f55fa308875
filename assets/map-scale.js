/* A scale bar on every MapLibre map of the app (plotly's `map` subplots do not offer MapLibre's ScaleControl).
   The length is a round number of metres or kilometres that fits 120 px at the map's centre latitude, in the
   page's language (<html lang>), kept up to date as the map moves. */
(function () {
  "use strict";
  var MAX_PX = 120;
  var TILE = 512;       // MapLibre's world is 512 px wide at zoom 0
  var EARTH = 40075016.686;

  function nice(m) {    // the largest 1, 2 or 5 x 10^n not above m
    var p = Math.pow(10, Math.floor(Math.log10(m)));
    var d = m / p;
    return (d >= 5 ? 5 : d >= 2 ? 2 : 1) * p;
  }

  function label(m) {
    var zh = (document.documentElement.lang || "zh").toLowerCase().indexOf("zh") === 0;
    if (m >= 1000) { return (m / 1000) + (zh ? " 公里" : " km"); }
    return m + (zh ? " 米" : " m");
  }

  function update(map, bar) {
    var c = map.getCenter();
    var mpp = EARTH * Math.cos(c.lat * Math.PI / 180) / (TILE * Math.pow(2, map.getZoom()));
    if (!isFinite(mpp) || mpp <= 0) { return; }
    var m = nice(MAX_PX * mpp);
    bar.style.width = Math.round(m / mpp) + "px";
    bar.textContent = label(m);
    bar.setAttribute("data-metres", String(m));
  }

  function attach() {   // riskmapEachMap: assets/map-each.js
    window.riskmapEachMap(function (map) {
      if (map.__riskmapScale === map.getContainer()) { return; }
      var box = map.getContainer();
      var bar = document.createElement("div");
      bar.className = "map-scale-bar";
      box.appendChild(bar);
      map.__riskmapScale = box;
      map.on("move", function () { update(map, bar); });
      update(map, bar);
    });
  }

  setInterval(attach, 1000);   // maps come and go with the pages (Dash renders them after this script)
})();
