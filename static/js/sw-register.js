// Registers the service worker, and offers a new version when one is waiting: it takes
// over only when the officer taps "reload", never in the middle of her work.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) return;
  var asked = false;

  function offer(worker) {
    var bar = document.getElementById("update-bar");
    var button = document.getElementById("update-reload");
    if (!bar || !button) return;
    bar.hidden = false;
    button.addEventListener(
      "click",
      function () {
        asked = true;
        button.disabled = true;
        worker.postMessage({ type: "SKIP_WAITING" });
      },
      { once: true }
    );
  }

  // the first install takes control quietly; only an update the officer asked for reloads
  // (the new worker is handed the key this page holds first, so she stays unlocked)
  navigator.serviceWorker.addEventListener("controllerchange", function () {
    if (!asked) return;
    var handOver = window.CloverLock ? window.CloverLock.handOver(navigator.serviceWorker.controller) : null;
    Promise.resolve(handOver).catch(function () { return null; }).then(function () {
      window.location.reload();
    });
  });

  function watch(registration) {
    if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
    registration.addEventListener("updatefound", function () {
      var worker = registration.installing;
      if (!worker) return;
      worker.addEventListener("statechange", function () {
        if (worker.state === "installed" && navigator.serviceWorker.controller) offer(worker);
      });
    });
  }

  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(watch, function () {
      // no worker (private mode, old browser): the app still works online
    });
  });
})();
