/* The MapLibre map of every plotly `map` subplot on the page, for the scripts that add to them
   (map-scale.js: a scale bar; map-motion.js: half resolution while moving on software WebGL). */
(function () {
  "use strict";
  window.riskmapEachMap = function (fn) {
    var plots = document.querySelectorAll(".js-plotly-plot");
    for (var i = 0; i < plots.length; i++) {
      var gd = plots[i];
      var sub = gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
      if (sub && sub.map) { fn(sub.map, gd); }
    }
  };
})();
