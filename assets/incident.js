/* The incident page (/incident): a click on the map reaches the server as the data of the dcc.Store
 * #incident-click: MapLibre's click gives the place (lon, lat in the drawing CRS), and a plotly click on a
 * point just before it (a hazchem enterprise, a venue) names the object (its customdata "layer:id").
 * Dash loads every assets/*.js on every page: this does nothing unless #incident-map is on the page. */
(function () {
  "use strict";
  var last = null;

  function hook() {
    var gd = document.querySelector("#incident-map .js-plotly-plot");
    var sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
    var map = sub && sub.map;
    if (!map || map.__riskmapIncident) { return; }
    map.__riskmapIncident = true;
    if (!gd.__riskmapIncident) {
      gd.__riskmapIncident = true;
      gd.on("plotly_click", function (ev) {
        var p = ev && ev.points && ev.points[0];
        var c = p && p.customdata;
        if (Array.isArray(c)) { c = c[0]; }
        if (typeof c === "string" && c.indexOf(":") > 0) { last = {target: c, t: Date.now()}; }
      });
    }
    map.on("click", function (e) {
      setTimeout(function () {
        var target = last && Date.now() - last.t < 500 ? last.target : null;
        last = null;
        if (window.dash_clientside && window.dash_clientside.set_props) {
          window.dash_clientside.set_props("incident-click", {data: {
            lon: e.lngLat.lng, lat: e.lngLat.lat, target: target, t: Date.now()}});
        }
      }, 80);
    });
    gd.setAttribute("data-click-ready", "1");
  }
  setInterval(hook, 250);
})();
