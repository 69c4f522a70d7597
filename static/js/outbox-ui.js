// The outbox in the page: forms saved while offline (or on a page kept for offline use) go
// to the outbox; sync runs when the app opens, when the connection returns, on a timer, and
// on "sync now"; the top bar says synced / syncing / N waiting / offline / sign in to sync.
// Signing out with items still waiting asks first. Offline data goes through CloverStore.
/* global CloverStore, CloverOutbox, CloverSync, CloverContract */
(function () {
  "use strict";
  var TIMER_MS = 60 * 1000;
  var failures = 0;
  var retryTimer = null;

  function labels() {
    var holder = document.getElementById("outbox-labels");
    return holder ? JSON.parse(holder.dataset.labels) : null;
  }

  function isSavedCopy() {
    return document.body.hasAttribute("data-saved-copy");
  }

  // a page from the server names who is signed in; the shell pages ask the store
  function whoIsHere() {
    if ("userId" in document.body.dataset) return Promise.resolve(document.body.dataset.userId || null);
    return CloverStore.currentUser().catch(function () { return null; });
  }

  function pageToken() {
    var headers = document.body.getAttribute("hx-headers");
    if (!headers || isSavedCopy()) return null;
    try {
      return JSON.parse(headers)["X-CSRFToken"] || null;
    } catch (error) {
      return null;
    }
  }

  // the current page's token when it is live, else the one the last live page left
  function tokenFor(userId) {
    var token = pageToken();
    if (token) return Promise.resolve(token);
    return CloverStore.getMeta("token:" + userId);
  }

  function formatTime(iso) {
    var options = { dateStyle: "medium", timeStyle: "short" };
    return new Intl.DateTimeFormat(document.documentElement.lang, options).format(new Date(iso));
  }

  function showBadge(status) {
    var badge = document.getElementById("sync-state");
    var text = labels();
    if (!badge || !text) return;
    var state;
    if (!navigator.onLine) state = "offline";
    else if (status && status.syncing) state = "syncing";
    else if (status && status.problem === "signin") state = "signin";
    else if (status && status.count > status.attention) state = "waiting";
    else if (status && status.attention) state = "attention";
    else state = "synced";
    var count = status ? status.count : 0;
    var said = text.badge[state].replace("{n}", count);
    var live = document.querySelector("[data-sync-live]");
    if (live && badge.dataset.state !== state && badge.dataset.state) live.textContent = said;
    badge.dataset.state = state;
    badge.querySelector("[data-sync-label]").textContent = said;
    var counter = badge.querySelector("[data-sync-count]");
    counter.textContent = String(count);
    counter.hidden = count === 0;
    var synced = status && status.syncedAt ? text.lastSynced.replace("{time}", formatTime(status.syncedAt)) : text.neverSynced;
    badge.title = synced;
    document.querySelectorAll("[data-last-synced]").forEach(function (el) { el.textContent = synced; });
  }

  function refresh() {
    return whoIsHere().then(function (userId) {
      if (!userId) {
        showBadge(null);
        return;
      }
      return CloverSync.status(userId).then(showBadge);
    }).then(function () {
      window.dispatchEvent(new CustomEvent("clover:outbox-shown"));
    }).catch(function () { showBadge(null); });
  }

  function scheduleRetry() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(function () { syncNow(); }, CloverSync.backoff(failures));
  }

  // one run for whoever is signed in here; failures back off with jitter
  function syncNow() {
    if (!navigator.onLine || !window.indexedDB) return refresh();
    return whoIsHere().then(function (userId) {
      if (!userId) return null;
      return tokenFor(userId).then(function (token) { return CloverSync.run(userId, token); });
    }).then(
      function () { failures = 0; clearTimeout(retryTimer); },
      function (error) {
        // signed out: wait for her to sign in again, nothing to retry until then
        if (error.reason !== "signin") {
          failures += 1;
          scheduleRetry();
        }
      }
    ).then(refresh);
  }
  window.CloverSyncNow = syncNow;

  // a form of the outbox, submitted with no connection or on a saved copy: keep it here.
  // Until the shared contract has arrived (from the worker's cache, at once) the form goes
  // its usual way, and the worker keeps an outbox form it cannot post.
  function queueForm(event) {
    var form = event.target;
    var path = new URL(form.action || window.location.href, window.location.href).pathname;
    if (!CloverContract.loaded() || !CloverOutbox.formAt(path)) return;
    if (navigator.onLine && !isSavedCopy()) return;
    var userId = document.body.dataset.userId;
    if (!userId || !window.indexedDB) return;
    event.preventDefault();
    // the draft is done with: visit-draft.js must not save it again on the way out
    form.setAttribute("data-draft-done", "");
    var entries = Array.from(new FormData(form).entries());
    var item = CloverOutbox.itemFromForm(path, entries, userId);
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
    CloverOutbox.queue(item)
      .then(function () {
        if (window.CloverDrafts && item.kind === "visit.create") return window.CloverDrafts.forget(userId, item.id);
        return null;
      })
      .then(function () { window.location.assign(CloverOutbox.backUrl(item, entries)); });
  }

  // signing out with items waiting: sync first, sign out anyway (they stay), or stay
  function confirmSignOut(event) {
    var form = event.target;
    var dialog = document.getElementById("sign-out-dialog");
    var userId = document.body.dataset.userId;
    if (!form.matches("[data-sign-out]") || !userId || !dialog || form.hasAttribute("data-confirmed")) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    CloverStore.outbox.count(userId).then(function (count) {
      if (!count) return signOut(form);
      dialog.querySelector("[data-sign-out-count]").textContent = labels().badge.waiting.replace("{n}", count);
      dialog.showModal();
      return null;
    });
  }

  function signOut(form) {
    form.setAttribute("data-confirmed", "");
    form.requestSubmit();
  }

  function dialogChoice(event) {
    var button = event.target.closest("[data-sign-out-choice]");
    if (!button) return;
    var dialog = document.getElementById("sign-out-dialog");
    var form = document.querySelector("form[data-sign-out]");
    var choice = button.dataset.signOutChoice;
    dialog.close();
    if (choice === "anyway") signOut(form);
    else if (choice === "sync") {
      syncNow().then(function () {
        return CloverStore.outbox.count(document.body.dataset.userId);
      }).then(function (count) {
        if (count) form.dispatchEvent(new Event("submit", { cancelable: true, bubbles: true }));
        else signOut(form);
      });
    }
  }

  function start() {
    if (!window.indexedDB || !document.getElementById("sync-state")) return;
    CloverContract.load().catch(function () { return null; });
    whoIsHere().then(function (userId) {
      var token = pageToken();
      // the worker sends with the token of the last live page
      if (userId && token) return CloverStore.setMeta("token:" + userId, token);
      return null;
    }).then(function () {
      if (navigator.storage && navigator.storage.persist) navigator.storage.persist();
      return syncNow();
    });
    setInterval(function () {
      CloverStore.currentUser().then(function (userId) {
        return userId ? CloverStore.outbox.count(userId) : 0;
      }).then(function (count) { if (count) syncNow(); });
    }, TIMER_MS);
  }

  document.addEventListener("submit", queueForm, true);
  document.addEventListener("submit", confirmSignOut, true);
  document.addEventListener("click", function (event) {
    dialogChoice(event);
    if (event.target.closest("[data-sync-now]")) syncNow();
  });
  window.addEventListener("online", syncNow);
  window.addEventListener("offline", refresh);
  window.addEventListener("clover:outbox", refresh);
  if (navigator.serviceWorker) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "clover:outbox") refresh();
    });
  }
  document.addEventListener("DOMContentLoaded", start);
})();
