/* The date pickers' month and day names in the page's language (<html lang>: zh-CN or en), not the browser's.
 *
 * Dash 4.4's picker (dash/dcc/async-datepicker.js) asks window.dateFns.locale each time it draws: it looks for a
 * key matching one of navigator.languages ("zhCN", "zh", "enUS", "en" ...) and, when none matches, takes the first
 * key registered; with none it draws English. So the locale files in date-fns/ (which register zhCN and enUS) would
 * let a Chinese browser show Chinese on an English page. Here window.dateFns keeps every locale those files
 * register, but shows the picker one key only, named to match no browser language, whose getter answers the
 * page's locale at the moment the picker asks. Order-independent: a locale file that loads after this one assigns
 * window.dateFns and is taken in the same way. */
(function () {
  "use strict";
  var byCode = {};    // date-fns locales by their code ("zh-CN", "en-US")
  var rest = {};      // whatever else was put on window.dateFns

  function take(value) {
    if (!value || typeof value !== "object") { return; }
    Object.keys(value).forEach(function (k) { if (k !== "locale") { rest[k] = value[k]; } });
    var loc = value.locale || {};
    Object.keys(loc).forEach(function (k) {
      var l = loc[k];
      if (l && typeof l.code === "string") { byCode[l.code] = l; }
    });
  }

  function pageLocale() {
    var lang = (document.documentElement.lang || "zh-CN").toLowerCase();
    return lang.indexOf("zh") === 0 ? byCode["zh-CN"] : byCode["en-US"];
  }

  take(window.dateFns);
  Object.defineProperty(window, "dateFns", {
    configurable: true,
    get: function () {
      var locale = {};
      Object.defineProperty(locale, "riskmapPageLanguage", {enumerable: true, get: pageLocale});
      return Object.assign({}, rest, {locale: locale});
    },
    set: take
  });
})();
