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
})();
