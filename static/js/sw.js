// Clover's service worker, served from /sw.js so its scope is the whole app. The server
// prepends self.CLOVER_SHELL = {version, precache, imports, offline, contract}: the version is
// a hash of everything precached, so any change to the shell is a new worker and a new cache.
// Static URLs carry their file's hash (?v=...), the same in the precache list and the pages.
// The contract (what phone and server share: forms, fields, statuses, URLs) is precached
// with the shell, and the worker reads it from its own cache.
//
// The app shell (no personal data) lives in Cache Storage. Personal pages live only in
// the offline store (IndexedDB, offline-store.js), under the user who downloaded them,
// sealed under her data key. The worker holds that key in memory (the vault below), hands
// it to her pages while unlocked, and keeps it while locked so the outbox still syncs;
// locked, or without the key, every page of hers is the lock page (lock.js).
// ("use strict" comes first in what the server sends, ahead of CLOVER_SHELL)
/* global CloverStore, CloverOutbox, CloverSync, CloverContract */

// idb, contract, offline-store, outbox, sync and sw-push, by their hashed URLs
importScripts.apply(self, self.CLOVER_SHELL.imports);

var SHELL = self.CLOVER_SHELL;
var CACHE_PREFIX = "clover-shell-";
var CACHE_NAME = CACHE_PREFIX + SHELL.version;
// the precached paths: a page saved before an update asks for an older ?v= of a file
var PRECACHED = new Set(SHELL.precache.map(function (url) {
  return new URL(url, self.location.href).pathname;
}));
// the contract of this worker's own shell, so the worker and the pages it serves agree
CloverContract.readFrom(function () {
  return caches.match(SHELL.contract, { cacheName: CACHE_NAME }).then(function (cached) {
    return cached || fetch(SHELL.contract, { credentials: "omit" });
  });
});

// a proxy answers these when Clover itself cannot be reached
var UNREACHABLE = new Set([502, 503, 504]);
// a form post that hangs this long is kept in the outbox instead (a resend is idempotent)
var POST_TIMEOUT_MS = 20000;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE_NAME).then(function (cache) {
      // straight from the server, without cookies: the shell is the same for everyone
      return Promise.all(
        SHELL.precache.map(function (url) {
          return fetch(url, { cache: "reload", credentials: "omit" }).then(function (response) {
            if (!response.ok) throw new Error("precache failed: " + url + " " + response.status);
            return cache.put(url, response);
          });
        })
      );
    })
  );
  // no skipWaiting here: a new version waits until the officer taps "reload"
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches
      .keys()
      .then(function (names) {
        return Promise.all(
          names
            .filter(function (name) { return name.indexOf(CACHE_PREFIX) === 0 && name !== CACHE_NAME; })
            .map(function (name) { return caches.delete(name); })
        );
      })
      .then(function () { return self.clients.claim(); })
  );
});

// her key in memory only: {userId, key, lockAfterMs, locked, lastActive}
var vault = { userId: null, key: null, lockAfterMs: 5 * 60000, locked: false, lastActive: 0 };
// a full sign-in a moment ago: her pages load, and get her key from the server
var signedInAt = 0;
var FRESH_SIGN_IN_MS = 2 * 60000;
var LOCK_PAGE = "/offline/lock";
// pages with nothing of hers on them open while locked
var OPEN_WHILE_LOCKED = ["/auth/", LOCK_PAGE, SHELL.offline];

function idle() {
  if (vault.key && Date.now() - vault.lastActive > vault.lockAfterMs) vault.locked = true;
  return vault.locked;
}

function forgetVault() {
  vault = { userId: null, key: null, lockAfterMs: vault.lockAfterMs, locked: false, lastActive: 0 };
  CloverStore.clearKey();
}

// what waited in the outbox while locked goes now (nothing waiting: the pages sync as usual)
function syncNow(userId) {
  return CloverStore.outbox.count(userId).then(function (count) {
    if (!count) return null;
    return CloverStore.getMeta("token:" + userId).then(function (token) {
      return CloverSync.run(userId, token);
    });
  }).catch(function () { return null; });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  var port = event.ports && event.ports[0];
  function reply(value) { if (port) port.postMessage(value); }
  if (data.type === "SKIP_WAITING") {
    self.skipWaiting();
  } else if (data.type === "clover:vault?") {
    var open = vault.key && vault.userId === data.userId && !idle();
    if (open) vault.lastActive = Date.now();
    reply(open ? { key: vault.key, lockAfterMs: vault.lockAfterMs } : { locked: Boolean(vault.key) });
  } else if (data.type === "clover:vault" && data.userId && data.key) {
    vault = {
      userId: data.userId,
      key: data.key,
      lockAfterMs: data.lockAfterMs || vault.lockAfterMs,
      locked: false,
      lastActive: Date.now(),
    };
    signedInAt = 0;
    CloverStore.setKey(data.userId, data.key);
    reply({ ok: true });
    event.waitUntil(syncNow(data.userId));
  } else if (data.type === "clover:lock") {
    if (vault.key) vault.locked = true;
    reply({ ok: true });
  } else if (data.type === "clover:forget") {
    if (!data.userId || data.userId === vault.userId) forgetVault();
    reply({ ok: true });
  } else if (data.type === "clover:active") {
    if (vault.key && !idle()) vault.lastActive = Date.now();
  }
});

// should this navigation get the lock page instead?
function mustLock(url) {
  if (OPEN_WHILE_LOCKED.some(function (path) { return url.pathname.indexOf(path) === 0; })) {
    return Promise.resolve(false);
  }
  if (signedInAt && Date.now() - signedInAt < FRESH_SIGN_IN_MS) return Promise.resolve(false);
  return CloverStore.currentUser().then(function (userId) {
    if (!userId) return false;
    if (vault.key && vault.userId === userId && !idle()) {
      vault.lastActive = Date.now();
      return false;
    }
    return CloverStore.keys.ring(userId).then(function (ring) { return Boolean(ring); });
  }).catch(function () { return false; });
}

function lockPage() {
  return caches.match(LOCK_PAGE, { cacheName: CACHE_NAME }).then(function (cached) {
    return cached || fetch(LOCK_PAGE, { credentials: "omit" });
  }).catch(lastResort);
}

// a saved page carries the same security headers the server sent with the shell
var SECURITY_HEADERS = [
  "Content-Security-Policy",
  "X-Content-Type-Options",
  "X-Frame-Options",
  "Referrer-Policy",
  "Permissions-Policy",
];

function offlinePage() {
  return caches.match(SHELL.offline, { cacheName: CACHE_NAME });
}

function lastResort() {
  return new Response("Offline / 离线", {
    status: 503,
    headers: { "Content-Type": "text/plain; charset=utf-8" },
  });
}

// the signed-in user's saved copy of this page, else the offline page
function savedCopy(url) {
  var key = url.pathname + url.search;
  var page = CloverStore.currentUser()
    .then(function (userId) { return CloverStore.readPage(userId, key); })
    .catch(function () { return null; });
  return Promise.all([page, offlinePage()]).then(function (found) {
    var saved = found[0];
    var offline = found[1];
    if (!saved) return offline || lastResort();
    var headers = new Headers({
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-store",
      "X-Clover-Saved-At": saved.savedAt,
    });
    SECURITY_HEADERS.forEach(function (name) {
      if (offline && offline.headers.has(name)) headers.set(name, offline.headers.get(name));
    });
    // the page knows it is a saved copy: forms on it go to the outbox, not the server
    var html = saved.html.replace("<body", "<body data-saved-copy");
    return new Response(html, { status: 200, headers: headers });
  });
}

// shell pages (the offline page, the outbox page) open from the cache when offline; one
// kept in each language (?lang=) opens in hers, the one her pages were last in (lock.js)
function shellPage(url) {
  if (!PRECACHED.has(url.pathname)) return null;
  var options = { cacheName: CACHE_NAME };
  return CloverStore.getMeta("locale").catch(function () { return null; }).then(function (locale) {
    var hers = locale ? url.pathname + "?lang=" + locale.replace("-", "_") : null;
    return (hers ? caches.match(hers, options) : Promise.resolve(null)).then(function (page) {
      return page || caches.match(url.pathname, { cacheName: CACHE_NAME, ignoreSearch: true });
    });
  });
}

// A sign-out with no connection: she is signed out on the phone at once (offline-pages.js
// forgot her pages and key before posting), and the form, with its token, is kept to end
// her session on the server at the first navigation that reaches it.
var KEPT_SIGN_OUT = "signOut:kept";

function keepSignOut(request) {
  return request.text()
    .then(function (body) {
      var kept = { body: body, type: request.headers.get("Content-Type") };
      return CloverStore.setMeta(KEPT_SIGN_OUT, kept);
    })
    .then(function () {
      return Response.redirect(new URL(SHELL.offline + "#signed-out", self.location.href).href, 303);
    });
}

function sendKeptSignOut() {
  return CloverStore.getMeta(KEPT_SIGN_OUT).then(function (kept) {
    if (!kept) return null;
    return fetch("/auth/logout", {
      method: "POST",
      body: kept.body,
      headers: { "Content-Type": kept.type },
      credentials: "same-origin",
      redirect: "manual",
    }).then(function () { return CloverStore.setMeta(KEPT_SIGN_OUT, null); });
  }).catch(function () { return null; });  // still no connection: kept for the next one
}

function navigate(request) {
  var url = new URL(request.url);
  var fallback = function () {
    return Promise.resolve(shellPage(url)).then(function (page) { return page || savedCopy(url); });
  };
  return sendKeptSignOut().then(function () { return mustLock(url); }).then(function (locked) {
    if (locked) return lockPage();
    return fetch(request).then(
      function (response) {
        return UNREACHABLE.has(response.status) ? fallback() : response;
      },
      fallback
    );
  });
}

// a navigation cannot be given an abort signal: race it against a timer instead
function fetchWithin(request, ms) {
  var timer;
  var late = new Promise(function (resolve, reject) {
    timer = setTimeout(function () { reject(new Error("no answer in time")); }, ms);
  });
  return Promise.race([fetch(request), late]).then(
    function (response) { clearTimeout(timer); return response; },
    function (error) { clearTimeout(timer); throw error; }
  );
}

// a visit or contact correction posted while the server cannot be reached (no network,
// a timeout, a 5xx) goes to the outbox, and she is taken back to the ledger
function postOrQueue(request) {
  var url = new URL(request.url);
  var kept = request.clone();
  function queue() {
    return Promise.all([kept.formData(), CloverStore.currentUser()])
      .then(function (found) {
        var entries = Array.from(found[0].entries());
        var item = CloverOutbox.itemFromForm(url.pathname, entries, found[1]);
        if (!item) throw new Error("not an outbox form");
        return CloverOutbox.queue(item).then(function () {
          return Response.redirect(new URL(CloverOutbox.backUrl(item, entries), url).href, 303);
        });
      })
      .catch(function () {
        return offlinePage().then(function (page) { return page || lastResort(); });
      });
  }
  return fetchWithin(request, POST_TIMEOUT_MS).then(function (response) {
    return response.status >= 500 ? queue() : response;
  }, queue);
}

// a form posted from a page: an outbox form may be kept; any other, with no connection,
// gets the offline page, not the browser's error
function postForm(request, url) {
  return CloverContract.load()
    .then(function () { return CloverOutbox.formAt(url.pathname); })
    .catch(function () { return null; })
    .then(function (form) {
      if (form) return postOrQueue(request);
      var signOut = url.pathname === "/auth/logout" ? request.clone() : null;
      if (signOut) forgetVault();
      return fetch(request).then(function (response) {
        // a sign-in step that moved on (a redirect): a full sign-in, just now
        var signIn = ["/auth/login", "/auth/second-factor", "/auth/enrol"].indexOf(url.pathname) >= 0;
        if (signIn && response.type === "opaqueredirect") signedInAt = Date.now();
        return response;
      }).catch(function () {
        if (signOut) return keepSignOut(signOut);
        return offlinePage().then(function (page) { return page || lastResort(); });
      });
    });
}

// one copy of each path is cached: a page saved before an update gets the current one
function shellAsset(request) {
  var options = { cacheName: CACHE_NAME, ignoreSearch: true };
  return caches.match(request, options).then(function (cached) {
    return cached || fetch(request);
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && request.method === "GET") {
    event.respondWith(navigate(request));
  } else if (request.mode === "navigate") {
    event.respondWith(postForm(request, url));
  } else if (request.method === "GET" && PRECACHED.has(url.pathname)) {
    event.respondWith(shellAsset(request));
  }
  // everything else (the API, page downloads) goes to the network untouched
});

// Background Sync: the browser wakes the worker once the connection is back; a rejected
// run is retried by the browser later with its own backoff
self.addEventListener("sync", function (event) {
  if (event.tag !== CloverOutbox.SYNC_TAG) return;
  event.waitUntil(
    CloverStore.currentUser().then(function (userId) {
      // locked with no key in memory: the outbox goes at her next unlock
      if (!userId || !CloverStore.hasKey(userId)) return null;
      return CloverStore.getMeta("token:" + userId).then(function (token) {
        return CloverSync.run(userId, token);
      });
    })
  );
});
