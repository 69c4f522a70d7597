// Reminders on the page: the app badge with the due count, and "remind me on this phone".
// Runs under script-src 'self': no inline code, no eval. Permission is asked on a tap only.
(function () {
  "use strict";

  var SW_URL = "/sw.js";
  var SUBSCRIBE_TIMEOUT_MS = 20000;
  var MESSAGES = {
    "no-key": "msgNoKey",
    ios: "msgIos",
    unsupported: "msgUnsupported",
    denied: "msgDenied",
    on: "msgOn",
    failed: "msgFailed",
    working: "msgWorking",
  };

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  // the due count from Today, on the installed app's icon where the platform has badges
  function showBadge() {
    var summary = document.getElementById("due-summary");
    if (!summary || !("setAppBadge" in navigator)) return;
    var count = parseInt(summary.dataset.dueCount, 10) || 0;
    var done = count > 0 ? navigator.setAppBadge(count) : navigator.clearAppBadge();
    Promise.resolve(done).catch(function () {});
  }

  function keyBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  // iOS (16.4 and later) gives push only to a web app opened from the Home Screen: true for
  // an iPhone or iPad whose Clover still runs in Safari. `env` is what the browser says of
  // itself (see browserEnv), so that this can be tried with any device's answers.
  function needsHomeScreen(env) {
    var ios = /iPad|iPhone|iPod/.test(env.userAgent || "") ||
      (env.platform === "MacIntel" && env.maxTouchPoints > 1); // iPadOS asks for desktop pages
    var installed = env.standalone === true || env.displayMode === "standalone";
    return ios && !installed;
  }

  function browserEnv() {
    return {
      userAgent: navigator.userAgent,
      platform: navigator.platform,
      maxTouchPoints: navigator.maxTouchPoints,
      standalone: navigator.standalone,
      displayMode: window.matchMedia("(display-mode: standalone)").matches ? "standalone" : "browser",
    };
  }

  // why this browser cannot receive push, or null when it can
  function whyNot(setup) {
    if (!setup.dataset.publicKey) return "no-key";
    if (needsHomeScreen(browserEnv())) return "ios";
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      return "unsupported";
    }
    if (Notification.permission === "denied") return "denied";
    return null;
  }

  function say(setup, key) {
    document.getElementById("push-status").textContent = setup.dataset[MESSAGES[key]] || "";
  }

  function registration() {
    return navigator.serviceWorker.getRegistration()
      .then(function (existing) { return existing || navigator.serviceWorker.register(SW_URL); })
      .then(function () { return navigator.serviceWorker.ready; });
  }

  // a push service out of reach can leave subscribe() pending for ever: give up in time
  function withTimeout(promise) {
    return Promise.race([promise, new Promise(function (resolve, reject) {
      setTimeout(function () { reject(new Error("failed")); }, SUBSCRIBE_TIMEOUT_MS);
    })]);
  }

  function enable(setup, button) {
    button.disabled = true;
    say(setup, "working");
    Notification.requestPermission()
      .then(function (permission) {
        if (permission !== "granted") throw new Error(permission === "denied" ? "denied" : "failed");
        return registration();
      })
      .then(function (reg) {
        return withTimeout(reg.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(setup.dataset.publicKey),
        }));
      })
      .then(function (subscription) {
        return fetch("/api/v1/push/subscriptions", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
          body: JSON.stringify(subscription.toJSON()),
        });
      })
      .then(function (response) {
        if (!response.ok) throw new Error("failed");
        window.location.reload();
      })
      .catch(function (error) {
        button.disabled = false;
        say(setup, error && error.message === "denied" ? "denied" : "failed");
      });
  }

  // her row for this browser's subscription, named "this phone" among her devices
  function listed(setup, subscription) {
    var rows = document.querySelectorAll("#push-devices [data-endpoint]");
    var mine = Array.prototype.filter.call(rows, function (row) {
      return row.dataset.endpoint === subscription.endpoint;
    })[0];
    if (mine && !mine.querySelector("[data-this-device]")) {
      var tag = document.createElement("span");
      tag.className = "small";
      tag.setAttribute("data-this-device", "");
      tag.textContent = setup.dataset.msgThisDevice || "";
      mine.querySelector(".device-text").appendChild(tag);
    }
    return Boolean(mine);
  }

  function setUp() {
    var setup = document.getElementById("push-setup");
    if (!setup) return;
    var button = document.getElementById("push-enable");
    var problem = whyNot(setup);
    if (problem) {
      say(setup, problem);
      return;
    }
    navigator.serviceWorker.getRegistration()
      .then(function (reg) { return reg ? reg.pushManager.getSubscription() : null; })
      .catch(function () { return null; })
      .then(function (subscription) {
        if (subscription && listed(setup, subscription)) {
          say(setup, "on");
          return;
        }
        button.hidden = false;
        button.addEventListener("click", function () { enable(setup, button); });
      });
  }

  window.CloverReminders = { needsHomeScreen: needsHomeScreen, browserEnv: browserEnv };

  document.addEventListener("DOMContentLoaded", function () {
    showBadge();
    setUp();
  });
})();
