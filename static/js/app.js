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

  window.addEventListener("online", showConnection);
  window.addEventListener("offline", showConnection);
  document.addEventListener("DOMContentLoaded", showConnection);
})();
