/* createDeck / updateDeck for the wall's 3D frame: the deck.gl JSON that pydeck writes (``@@type``, ``@@=``
 * accessors), converted by @deck.gl/json and drawn by deck.gl's own standalone build, with pydeck's tooltip
 * form ({html, style} with {field} placeholders, the values escaped here). Concatenated after h3-js, deck.gl
 * and @deck.gl/json by dashboard/components/deck.py; a third of pydeck's 4.3 MB notebook bundle, which also
 * carries Jupyter widgets and basemap providers the wall never uses. */
(function () {
  "use strict";
  var converter = new deck.JSONConverter({configuration: {classes: Object.assign({}, deck),
    enumerations: {COORDINATE_SYSTEM: deck.COORDINATE_SYSTEM}}});
  var DROP = ["mapProvider", "mapStyle", "customLibraries", "description"];   // pydeck's, not deck.gl's

  function props(json) {
    var spec = Object.assign({}, json);
    DROP.forEach(function (k) { delete spec[k]; });
    return converter.convert(spec);
  }
  function esc(v) {
    return String(v === undefined || v === null ? "" : v).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function tooltipOf(tip) {
    if (!tip || !tip.html) { return null; }
    return function (info) {
      var o = info && info.object;
      if (!o) { return null; }
      return {html: tip.html.replace(/\{(\w+)\}/g, function (m, k) { return esc(o[k]); }), style: tip.style};
    };
  }
  window.createDeck = function (opts) {
    var p = props(opts.jsonInput);
    p.parent = opts.container;
    p.getTooltip = tooltipOf(opts.tooltip);
    return new deck.Deck(p);
  };
  window.updateDeck = function (json, d) { d.setProps(props(json)); };
})();
