// Clover's own page script: runs under script-src 'self', no inline code, no eval.
(function () {
  "use strict";

  function showConnection() {
    var badge = document.getElementById("sync-state");
    if (!badge) return;
    var online = navigator.onLine;
    badge.dataset.state = online ? "online" : "offline";
    badge.textContent = online ? badge.dataset.labelOnline : badge.dataset.labelOffline;
  }

  // a ledger kept for offline use is printed later than it was served: date it now
  function datePrintout() {
    var lang = document.documentElement.lang || undefined;
    var today = new Date().toLocaleDateString(lang, { year: "numeric", month: "long", day: "numeric" });
    document.querySelectorAll("[data-print-date]").forEach(function (el) {
      el.textContent = today;
    });
  }

  window.addEventListener("beforeprint", datePrintout);
  window.addEventListener("online", showConnection);
  window.addEventListener("offline", showConnection);
  document.addEventListener("DOMContentLoaded", showConnection);
})();
