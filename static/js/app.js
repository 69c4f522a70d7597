// Clover's own page script: runs under script-src 'self', no inline code, no eval.
(function () {
  "use strict";

  // the badge's label says online or offline; its count (data-sync-count) is the outbox's
  function showConnection() {
    var badge = document.getElementById("sync-state");
    if (!badge) return;
    var online = navigator.onLine;
    var label = badge.querySelector("[data-sync-label]");
    badge.dataset.state = online ? "online" : "offline";
    label.textContent = online ? badge.dataset.labelOnline : badge.dataset.labelOffline;
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
