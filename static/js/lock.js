// The app lock: her offline store opens only with her data key, which lives in memory (the
// service worker's, handed to each page she opens) and never in storage.
//
// - At a full sign-in the server hands this phone's device key over (POST
//   /api/v1/device-key): it opens her key ring, or makes one at her first sign-in here;
//   then she sets a PIN (the lock page, #setup) unless one wraps her key already.
// - After the unit's idle minutes, or back from the background after longer than that, the
//   page locks: the worker keeps the key for the outbox's sync but hands it to no page, and
//   every page she opens is the lock page until her PIN opens the key again. Five wrong
//   PINs drop the PIN's wrapping: then only a full sign-in opens it.
// - Online, each page asks whether her device key still lives; destroyed (she was
//   deactivated, or her device's session ended by someone else), her store is wiped.
/* global CloverStore */
(function () {
  "use strict";

  var LOCK_URL = "/offline/lock";
  var ACTIVE_PING_MS = 20000;
  var CHECK_EVERY_MS = 15000;
  var DEFAULT_LOCK_MINUTES = 5;
  var lockAfterMs = DEFAULT_LOCK_MINUTES * 60000;
  var lastActive = Date.now();
  var lastPing = 0;
  var hiddenAt = null;
  var locking = false;

  // --- talking to the worker ---

  function worker() {
    if (!navigator.serviceWorker) return Promise.resolve(null);
    if (navigator.serviceWorker.controller) return Promise.resolve(navigator.serviceWorker.controller);
    return navigator.serviceWorker.getRegistration().then(function (registration) {
      return registration ? registration.active || registration.waiting || registration.installing : null;
    });
  }

  // a message and the worker's answer (null when no worker answers in time)
  function ask(message, target) {
    return Promise.resolve(target || worker()).then(function (to) {
      if (!to) return null;
      return new Promise(function (resolve) {
        var channel = new MessageChannel();
        var timer = setTimeout(function () { resolve(null); }, 3000);
        channel.port1.onmessage = function (event) {
          clearTimeout(timer);
          resolve(event.data);
        };
        to.postMessage(message, [channel.port2]);
      });
    });
  }

  // the key to the worker (once there is one), so the next page and the sync have it
  function handOver(userId, key, target) {
    var message = { type: "clover:vault", userId: userId, key: key, lockAfterMs: lockAfterMs };
    if (target) return ask(message, target);
    if (!navigator.serviceWorker) return Promise.resolve(null);
    return navigator.serviceWorker.ready.then(function (registration) {
      return ask(message, registration.active);
    });
  }

  // --- the server's device key ---

  function token() {
    var headers = document.body.getAttribute("hx-headers");
    try {
      return headers ? JSON.parse(headers)["X-CSRFToken"] : null;
    } catch (error) {
      return null;
    }
  }

  function deviceKey(method, deviceId) {
    var url = "/api/v1/device-key";
    var options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method === "POST") {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = token() || "";
      options.body = JSON.stringify({ device_id: deviceId });
    } else {
      url += "?device_id=" + encodeURIComponent(deviceId);
    }
    return fetch(url, options).then(function (response) {
      if (!response.ok) return null;
      return response.json();
    }).catch(function () { return null; });
  }

  function settingsOf(answer) {
    return { lockAfterMinutes: answer.lock_after_minutes || DEFAULT_LOCK_MINUTES };
  }

  function useLockAfter(minutes) {
    lockAfterMs = Math.max(minutes || DEFAULT_LOCK_MINUTES, 1) * 60000;
  }

  // --- locking ---

  function goToLock(hash) {
    if (locking) return;
    locking = true;
    document.documentElement.dataset.lock = "locking";
    try {
      sessionStorage.setItem("clover:return", window.location.pathname + window.location.search);
    } catch (error) {
      // no session storage: she lands on Today after unlocking
    }
    CloverStore.clearKey();
    window.location.replace(LOCK_URL + (hash || ""));
  }

  function lockNow() {
    ask({ type: "clover:lock" }).then(function () { goToLock(""); });
  }

  function active() {
    lastActive = Date.now();
    if (lastActive - lastPing > ACTIVE_PING_MS) {
      lastPing = lastActive;
      worker().then(function (to) { if (to) to.postMessage({ type: "clover:active" }); });
    }
  }

  function watchIdle() {
    ["pointerdown", "keydown", "input", "scroll", "touchstart"].forEach(function (name) {
      document.addEventListener(name, active, { passive: true, capture: true });
    });
    setInterval(function () {
      if (Date.now() - lastActive > lockAfterMs) lockNow();
    }, CHECK_EVERY_MS);
    document.addEventListener("visibilitychange", function () {
      if (document.hidden) {
        hiddenAt = Date.now();
      } else if (hiddenAt !== null) {
        var away = Date.now() - hiddenAt;
        hiddenAt = null;
        if (away > lockAfterMs) lockNow();
        else active();
      }
    });
  }

  // --- her device key still lives? ---

  function checkDevices() {
    if (!navigator.onLine) return Promise.resolve();
    return CloverStore.getMeta("device").then(function (deviceId) {
      if (!deviceId) return null;
      return CloverStore.keys.all().then(function (rings) {
        return Promise.all(rings.map(function (ring) {
          var url = "/offline/device-keys/" + deviceId + "/" + ring.userId;
          return fetch(url, { credentials: "omit", headers: { Accept: "application/json" } })
            .then(function (response) { return response.ok ? response.json() : null; })
            .then(function (state) {
              if (!state || state.live) return null;
              // her device key is gone: nothing of hers here can be opened again
              ask({ type: "clover:forget", userId: ring.userId });
              return CloverStore.wipeUser(ring.userId);
            })
            .catch(function () { return null; });
        }));
      });
    });
  }

  // --- a page of hers: unlock it ---

  // (the page says where it stands, for her tests: open, or on its way to the lock page)
  function unlocked(userId, key, minutes) {
    useLockAfter(minutes);
    CloverStore.setKey(userId, key);
    CloverStore.sealLegacy(userId).catch(function (error) { console.warn("sealing kept data:", error); });
    watchIdle();
  }

  // a full sign-in just now: the server's device key opens her ring, or makes one
  function openOnline(userId) {
    return CloverStore.deviceId().then(function (deviceId) {
      return deviceKey("POST", deviceId);
    }).then(function (answer) {
      if (!answer || !answer.key) return null;
      var settings = settingsOf(answer);
      return CloverStore.keys.openWithServer(userId, answer.key, settings).then(function (key) {
        if (key) return key;
        // a ring the server's key no longer opens (destroyed, then minted anew): start afresh
        return CloverStore.keys.ring(userId).then(function (ring) {
          return ring ? CloverStore.wipeUser(userId) : null;
        }).then(function () {
          return CloverStore.keys.create(userId, answer.key, settings);
        });
      }).then(function (key) {
        return { key: key, settings: settings };
      });
    });
  }

  // unlocked: she sets her PIN first if none wraps her key yet
  function opened(ring) {
    if (ring && !ring.pin) return goToLock("#setup");
    document.documentElement.dataset.lock = "open";
    return null;
  }

  function startPage(userId) {
    CloverStore.setMeta("locale", document.documentElement.lang || null);
    return ask({ type: "clover:vault?", userId: userId }).then(function (vault) {
      if (vault && vault.key) {
        unlocked(userId, vault.key, vault.lockAfterMs / 60000);
        return CloverStore.keys.ring(userId).then(opened);
      }
      // the worker let this page through: a full sign-in just now (or no worker yet)
      return openOnline(userId).then(function (online) {
        if (!online) return goToLock("");
        unlocked(userId, online.key, online.settings.lockAfterMinutes);
        return handOver(userId, online.key).then(function () {
          return CloverStore.keys.ring(userId);
        }).then(opened);
      });
    });
  }

  function startShell() {
    return CloverStore.currentUser().then(function (userId) {
      if (!userId) return null;
      return ask({ type: "clover:vault?", userId: userId }).then(function (vault) {
        if (vault && vault.key) {
          unlocked(userId, vault.key, vault.lockAfterMs / 60000);
          document.documentElement.dataset.lock = "open";
          return null;
        }
        return CloverStore.keys.ring(userId).then(function (ring) {
          if (ring) goToLock("");
        });
      });
    });
  }

  // --- the lock page ---

  function lockPage(page) {
    var labels = JSON.parse(page.dataset.labels);
    var userId = null;
    var form = page.querySelector("[data-lock-form]");
    var input = page.querySelector("[data-lock-pin]");
    var again = page.querySelector("[data-lock-pin-again]");
    var message = page.querySelector("[data-lock-message]");
    var submits = page.querySelectorAll("button[type=submit]");

    function text(locale) {
      var chosen = labels[locale] || labels[page.dataset.defaultLocale];
      page.querySelectorAll("[data-lock-text]").forEach(function (node) {
        node.textContent = chosen[node.dataset.lockText];
      });
      return chosen;
    }
    var words = labels[page.dataset.defaultLocale];

    function show(mode) {
      page.dataset.mode = mode;
      document.documentElement.dataset.lock = "page-" + mode;
      page.querySelectorAll("[data-lock-mode]").forEach(function (node) {
        node.hidden = node.dataset.lockMode.split(" ").indexOf(mode) < 0;
      });
      again.required = mode === "setup";
      input.required = mode !== "signin";
      if (mode !== "signin") input.focus();
    }

    function say(words_) {
      message.textContent = words_ || "";
    }

    function back() {
      var target = "/";
      try {
        target = sessionStorage.getItem("clover:return") || "/";
        sessionStorage.removeItem("clover:return");
      } catch (error) {
        target = "/";
      }
      if (target.indexOf(LOCK_URL) === 0) target = "/";
      window.location.replace(target);
    }

    function unlock(pin) {
      return CloverStore.keys.openWithPin(userId, pin).then(function (result) {
        if (result.key) {
          return CloverStore.keys.ring(userId).then(function (ring) {
            lockAfterMs = (ring.lockAfterMinutes || DEFAULT_LOCK_MINUTES) * 60000;
            return handOver(userId, result.key);
          }).then(back);
        }
        input.value = "";
        if (result.dropped) {
          show("signin");
          return say(words.dropped);
        }
        return say(words.wrong.replace("{n}", result.tries));
      });
    }

    function setPin(pin) {
      if (pin !== again.value) return Promise.resolve(say(words.mismatch));
      return CloverStore.deviceId().then(function (deviceId) {
        return deviceKey("GET", deviceId);
      }).then(function (answer) {
        // only a full sign-in a moment ago may set her PIN
        if (!answer || !answer.key) {
          show("signin");
          return say(words.signinNeeded);
        }
        return CloverStore.keys.setPin(userId, answer.key, pin).then(back);
      });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var pin = input.value.trim();
      if (!/^[0-9]{6,}$/.test(pin)) return say(words.pinRule);
      submits.forEach(function (button) { button.disabled = true; });
      say(words.working);
      var work = page.dataset.mode === "setup" ? setPin(pin) : unlock(pin);
      return work.catch(function (error) {
        console.warn("lock:", error);
        say(words.failed);
      }).then(function () { submits.forEach(function (button) { button.disabled = false; }); });
    });

    // she forgot her PIN, or the PIN was dropped: sign in again (her outbox stays)
    page.querySelectorAll("[data-lock-signin]").forEach(function (button) {
      button.addEventListener("click", function () {
        button.disabled = true;
        var done = function () { window.location.assign("/auth/login"); };
        CloverStore.keys.dropPin(userId).then(function () {
          return CloverStore.getMeta("token:" + userId);
        }).then(function (csrf) {
          var body = new URLSearchParams({ csrf_token: csrf || "" });
          // ends this session on the server; her device key stays for her next sign-in
          return fetch("/auth/logout", { method: "POST", credentials: "same-origin", body: body });
        }).catch(function () { return null; }).then(function () {
          return ask({ type: "clover:forget", userId: userId });
        }).then(done, done);
      });
    });

    Promise.all([CloverStore.currentUser(), CloverStore.getMeta("locale")]).then(function (found) {
      userId = found[0];
      words = text(found[1]);
      if (!userId) return window.location.replace("/auth/login");
      return CloverStore.keys.ring(userId).then(function (ring) {
        if (!ring) return window.location.replace("/auth/login");
        if (window.location.hash === "#setup" && !ring.pin) return show("setup");
        if (!ring.pin) return show("signin");
        return show("unlock");
      });
    });
  }

  function start() {
    checkDevices().catch(function () { return null; });
    var page = document.querySelector("[data-lock-page]");
    if (page) return lockPage(page);
    if (!window.indexedDB) return null;
    // a shell page (the outbox, the offline page) names nobody: it reads as whoever is here
    if (!("userId" in document.body.dataset)) return startShell();
    var userId = document.body.dataset.userId;
    // only the field roles keep a caseload on the phone, so only they have a PIN
    if (!userId || !document.body.hasAttribute("data-offline-copy")) return null;
    return startPage(userId);
  }

  // an update takes over: the new worker gets the key the page holds
  window.CloverLock = {
    handOver: function (target) {
      var userId = document.body.dataset.userId;
      if (!userId || !CloverStore.hasKey(userId)) return Promise.resolve(null);
      return handOver(userId, CloverStore.heldKey(), target);
    },
    forget: function (userId) { return ask({ type: "clover:forget", userId: userId }); },
    lockNow: lockNow,
  };

  document.addEventListener("DOMContentLoaded", start);
})();
