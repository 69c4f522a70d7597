// Keeps the signed-in user's caseload pages in the offline store: on sign-in, on opening
// the app (at most every few minutes), when the connection returns and on "download for
// offline"; only the pages whose version in the listing moved are downloaded again (an
// unchanged caseload costs the listing alone). Signing out forgets them, her drafts and
// her PIN; her key too once her outbox is empty. Every read and write goes through
// CloverStore; the list's URL comes from the shared contract (contract.js).
/* global CloverStore, CloverContract */
(function () {
  "use strict";
  var REFRESH_AFTER_MS = 5 * 60 * 1000;
  var RETRY_AFTER_MS = 1000;
  var running = null;

  // the shell (offline page) has no data-user-id: it must not change who is signed in
  function declaresUser() {
    return "userId" in document.body.dataset;
  }

  function signedInUser() {
    return document.body.dataset.userId || null;
  }

  function mayKeepCopy() {
    return document.body.hasAttribute("data-offline-copy");
  }

  function formatTime(iso) {
    var options = { dateStyle: "medium", timeStyle: "short" };
    return new Intl.DateTimeFormat(document.documentElement.lang, options).format(new Date(iso));
  }

  function showStatus(state, savedAt) {
    document.body.dataset.offlineState = state;
    document.querySelectorAll("[data-offline-panel]").forEach(function (panel) {
      var labels = panel.dataset;
      var text = {
        never: labels.labelNever,
        saving: labels.labelSaving,
        saved: savedAt ? labels.labelSaved.replace("{time}", formatTime(savedAt)) : labels.labelNever,
        failed: labels.labelFailed,
        offline: labels.labelOffline,
      }[state];
      panel.dataset.state = state;
      panel.querySelector("[data-offline-status]").textContent = text;
      panel.querySelector("[data-offline-download]").disabled = state === "saving";
    });
  }

  // a page fetched to keep asks for its version (X-Clover-Offline), told in X-Clover-Page-Version
  function fetchChecked(url, type, asked) {
    var headers = Object.assign({ Accept: type }, asked || {});
    return fetch(url, { credentials: "same-origin", headers: headers }).then(
      function (response) {
        var received = response.headers.get("Content-Type") || "";
        // a redirect means the session is gone: the sign-in page is not her caseload
        if (!response.ok || response.redirected || received.indexOf(type) !== 0) {
          throw new Error(url + " answered " + response.status);
        }
        return response;
      }
    );
  }

  function wait(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  // one page at a time, gentle on a weak connection; a page that fails is tried once more
  function savePages(userId, pages, savedAt) {
    function save(page) {
      return fetchChecked(page.url, "text/html", { "X-Clover-Offline": "1" })
        .then(function (response) {
          // the page's own version, worked out as it was rendered: at least the listing's
          var version = response.headers.get("X-Clover-Page-Version") || page.version;
          return response.text().then(function (html) {
            return CloverStore.savePage(userId, page.url, html, savedAt, version);
          });
        });
    }
    return pages.reduce(function (chain, page) {
      return chain.then(function () {
        return save(page).catch(function () {
          return wait(RETRY_AFTER_MS).then(function () { return save(page); });
        });
      });
    }, Promise.resolve());
  }

  // the listed pages whose kept copy is missing or of another version
  function changedPages(userId, pages) {
    return CloverStore.pageVersions(userId).then(function (kept) {
      return pages.filter(function (page) { return !page.version || kept[page.url] !== page.version; });
    });
  }

  function download(userId) {
    if (running) return running;
    showStatus("saving");
    var savedAt = new Date().toISOString();
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
    var cursor = null;
    // the sync's cursor first: what changes during the download is pulled again later
    running = window.CloverSync.startCursor(userId)
      .then(function (taken) {
        cursor = taken;
        return CloverContract.load();
      })
      .then(function (contract) { return fetchChecked(contract.urls.offline_pages, "application/json"); })
      .then(function (response) { return response.json(); })
      .then(function (listing) {
        if (listing.user_id !== userId) throw new Error("signed in as someone else");
        var urls = listing.pages.map(function (page) { return page.url; });
        return changedPages(userId, listing.pages)
          .then(function (changed) { return savePages(userId, changed, savedAt); })
          .then(function () { return CloverStore.keepOnlyPages(userId, urls); })
          .then(function () { return CloverStore.setDownloadedAt(userId, savedAt, language()); })
          .then(function () { return window.CloverSync.keepCursor(userId, cursor); });
      })
      .then(
        function () { showStatus("saved", savedAt); },
        function (error) {
          console.warn("offline copy not saved:", error);
          showStatus(navigator.onLine ? "failed" : "offline");
        }
      )
      .then(function () { running = null; });
    return running;
  }

  function language() {
    return document.documentElement.lang;
  }

  // stale: saved a while ago, or in another language than her pages now speak (she
  // changed it in Settings)
  function refreshIfStale(userId, force) {
    return Promise.all([
      CloverStore.downloadedAt(userId),
      CloverStore.downloadLanguage(userId),
    ]).then(function (found) {
      var savedAt = found[0];
      showStatus(savedAt ? "saved" : "never", savedAt);
      var stale = !savedAt || Date.now() - Date.parse(savedAt) > REFRESH_AFTER_MS ||
        found[1] !== language();
      if (navigator.onLine && (force || stale)) return download(userId);
      return null;
    });
  }

  function start() {
    if (!declaresUser() || !window.indexedDB) return;
    var userId = signedInUser();
    CloverStore.useUser(userId).then(function (previous) {
      if (!userId || !mayKeepCopy()) return null;
      // just signed in (or someone else was before): save her caseload now
      return refreshIfStale(userId, previous !== userId);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-offline-download]");
    var userId = signedInUser();
    if (!button || !userId) return;
    if (!navigator.onLine) {
      showStatus("offline");
      return;
    }
    download(userId);
  });

  window.addEventListener("online", function () {
    var userId = signedInUser();
    if (userId && mayKeepCopy()) refreshIfStale(userId, false);
  });

  // signing out forgets this user's pages first, then posts the form
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var userId = signedInUser();
    if (!form.matches("[data-sign-out]") || !userId || !window.indexedDB) return;
    event.preventDefault();
    // nobody is signed in from here on: a sync still running saves no more of her pages
    // and the worker forgets her key: it can seal no more of her pages
    CloverStore.setMeta("currentUser", null)
      .then(function () { return window.CloverLock ? window.CloverLock.forget(userId) : null; })
      .then(function () {
        CloverStore.clearKey(true);
        // a run still fetching can seal nothing now: wait for it a moment at most
        var moment = new Promise(function (resolve) { setTimeout(resolve, 2000); });
        return Promise.race([window.CloverSync.settled(userId), moment]);
      })
      .then(function () { return CloverStore.forgetUser(userId); })
      .catch(function () { return null; })
      .then(function () { form.submit(); });
  });

  document.addEventListener("DOMContentLoaded", start);
})();
