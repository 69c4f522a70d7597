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
