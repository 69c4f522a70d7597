// Web Push in the service worker: show the reminder, set the app badge, open the app on a tap.
// Loaded by the app's service worker with importScripts('/static/js/sw-push.js').
// The payload carries counts and a link only; the link must stay inside the app.
(function () {
  "use strict";

  var FALLBACK_TITLE = "Clover";
  var ICON = "/static/icons/clover.svg";

  function readPayload(event) {
    if (!event.data) return {};
    try {
      return event.data.json();
    } catch (error) {
      return { body: event.data.text() };
    }
  }

  // only a path of this app, never another site named by a message
  function appUrl(url) {
    var target = new URL(url || "/", self.location.origin);
    return target.origin === self.location.origin ? target.href : self.location.origin + "/";
  }

  function setBadge(count) {
    var nav = self.navigator;
    if (typeof count !== "number" || !nav || !("setAppBadge" in nav)) return Promise.resolve();
    var done = count > 0 ? nav.setAppBadge(count) : nav.clearAppBadge();
    return Promise.resolve(done).catch(function () {});
  }

  function show(data) {
    return self.registration.showNotification(data.title || FALLBACK_TITLE, {
      body: data.body || "",
      tag: data.tag || "clover",
      icon: ICON,
      data: { url: appUrl(data.url) },
    });
  }

  // focus a window already showing the page, else bring one of ours there, else open one
  function openApp(url) {
    var target = appUrl(url);
    return self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      var exact = windows.find(function (client) { return client.url === target; });
      if (exact) return exact.focus();
      var ours = windows.find(function (client) {
        return new URL(client.url).origin === self.location.origin && "navigate" in client;
      });
      if (!ours) return self.clients.openWindow(target);
      return Promise.resolve(ours.focus()).catch(function () { return ours; }).then(function () {
        return ours.navigate(target);
      });
    });
  }

  self.addEventListener("push", function (event) {
    var data = readPayload(event);
    event.waitUntil(Promise.all([show(data), setBadge(data.count)]));
  });

  self.addEventListener("notificationclick", function (event) {
    event.notification.close();
    event.waitUntil(openApp(event.notification.data && event.notification.data.url));
  });

  self.cloverPush = { show: show, openApp: openApp, appUrl: appUrl };
})();
