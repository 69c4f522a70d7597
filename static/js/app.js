// Clover's own page script: runs under script-src 'self', no inline code, no eval.
// (the top bar's sync badge is outbox-ui.js's)
(function () {
  "use strict";

  // a ledger kept for offline use is printed later than it was served: date it now
  function datePrintout() {
    var lang = document.documentElement.lang || undefined;
    var today = new Date().toLocaleDateString(lang, { year: "numeric", month: "long", day: "numeric" });
    document.querySelectorAll("[data-print-date]").forEach(function (el) {
      el.textContent = today;
    });
  }

  window.addEventListener("beforeprint", datePrintout);

  // a form saved while the server was out of reach: the worker queued it and sent her
  // back here (sw.js), so say where it is
  // the offline page carries every language: show hers, the one her pages were last in
  // (lock.js keeps it), else the browser's
  function choose(notices, wanted) {
    var tag = (wanted || "").toLowerCase();
    var exact = notices.filter(function (n) { return n.lang.toLowerCase() === tag; })[0];
    return exact || notices.filter(function (n) {
      return n.lang.toLowerCase().split("-")[0] === tag.split("-")[0];
    })[0] || notices[0];
  }

  document.addEventListener("DOMContentLoaded", function () {
    var notices = Array.prototype.slice.call(document.querySelectorAll("[data-notice-lang]"));
    if (notices.length < 2) return;
    var kept = window.CloverStore ? CloverStore.getMeta("locale") : Promise.resolve(null);
    kept.catch(function () { return null; }).then(function (locale) {
      var shown = choose(notices, locale || navigator.language);
      notices.forEach(function (notice) { notice.hidden = notice !== shown; });
      // signed out with no connection (sw.js): say what happened and what is still to come
      if (window.location.hash === "#signed-out") {
        shown.querySelector("[data-signed-out]").hidden = false;
      }
      document.documentElement.lang = shown.lang;
      document.title = shown.querySelector("h1").textContent;
    });
  });

  // a refused save: her eyes (and her screen reader) go to what to fix
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) summary.focus();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var notice = document.querySelector("[data-saved-on-phone]");
    if (!notice || window.location.hash !== "#saved-on-phone") return;
    notice.hidden = false;
    history.replaceState(null, "", window.location.pathname + window.location.search);
  });
})();
