// Sync: sends a user's outbox to /api/v1/sync/push oldest first, then pulls what changed
// in her caseload so the offline copy stays fresh. Loaded by the pages and by the service
// worker (Background Sync); each run holds a lock per user, so two never send at once.
//
// Like Workbox's background-sync Queue: an item that could not be sent goes back in its
// place and the error is rethrown, so nothing is dropped; it leaves the outbox only when
// the server confirmed it (saved) or took it over as a conflict. An item the server could
// not take (invalid, refused, or an error on its side) waits for her attention with the
// server's message, and the items after it go on.
//
// The URLs, the batch size and what each status means come from the shared contract
// (contract.js, built from the server's own definitions).
/* global CloverStore, CloverContract */
(function (global) {
  "use strict";

  var TIMEOUT_MS = 30000;
  var BACKOFF_BASE_MS = 2000;
  var BACKOFF_CAP_MS = 5 * 60 * 1000;
  var KEPT_CONFLICTS = 20;
  var running = {};

  // why a run stopped: "retry" (network, timeout, 5xx) or "signin" (session or token gone)
  function SyncError(reason, message) {
    var error = new Error(message);
    error.reason = reason;
    return error;
  }

  // exponential backoff with full jitter: anywhere up to base * 2^attempts, capped
  function backoff(attempts) {
    var ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * Math.pow(2, Math.max(attempts, 0)));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  function fetchWithTimeout(url, options) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    var request = Object.assign({ credentials: "same-origin", signal: controller.signal }, options);
    return fetch(url, request).then(
      function (response) { clearTimeout(timer); return response; },
      function (error) {
        clearTimeout(timer);
        throw new SyncError("retry", "no answer: " + error.message);
      }
    );
  }

  // a fresh CSRF token from a live page, if the session is still hers
  function freshToken(userId) {
    return fetchWithTimeout(CloverContract.get().urls.today, { headers: { Accept: "text/html" } }).then(function (response) {
      if (!response.ok || response.redirected) return null;
      return response.text().then(function (html) {
        var user = /data-user-id="([^"]*)"/.exec(html);
        var token = /"X-CSRFToken": "([^"]+)"/.exec(html);
        if (!user || user[1] !== userId || !token) return null;
        return CloverStore.setMeta("token:" + userId, token[1]).then(function () { return token[1]; });
      });
    });
  }

  function postBatch(items, token) {
    var body = JSON.stringify({ items: items.map(function (item) { return item.payload; }) });
    return fetchWithTimeout(CloverContract.get().urls.push, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token || "" },
      body: body,
    }).then(function (response) {
      if (response.status === 200) return response.json();
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (response.status === 401) throw new SyncError("signin", "session expired");
        if (response.status === 400 && answer.error === "csrf") throw new SyncError("csrf", "token refused");
        throw new SyncError("retry", "server answered " + response.status);
      });
    });
  }

  // send with the token we have; a refused token is replaced once from a live page
  function send(userId, items, token) {
    return postBatch(items, token).catch(function (error) {
      if (error.reason !== "csrf") throw error;
      return freshToken(userId).then(function (fresh) {
        if (!fresh) throw new SyncError("signin", "no session to send with");
        return postBatch(items, fresh).catch(function (again) {
          if (again.reason === "csrf") throw new SyncError("signin", "token refused twice");
          throw again;
        });
      });
    });
  }

  function rememberConflicts(userId, conflicts) {
    if (!conflicts.length) return Promise.resolve();
    var key = "conflicts:" + userId;
    return CloverStore.getMeta(key).then(function (known) {
      return CloverStore.setMeta(key, conflicts.concat(known || []).slice(0, KEPT_CONFLICTS));
    });
  }

  // what the server answered, item by item
  function settle(userId, items, answer) {
    var statuses = CloverContract.get().statuses;
    var results = answer.results || [];
    var tally = { confirmed: 0, attention: 0, conflicts: 0 };
    var conflicts = [];
    var work = items.map(function (item, index) {
      // answered in item order; an answer for another id is no answer for this one
      var result = results[index] && (results[index].id === item.id || !results[index].id) ? results[index] : null;
      var status = result ? result.status : null;
      if (statuses.saved.indexOf(status) >= 0) {
        tally.confirmed += 1;
        return CloverStore.outbox.remove(item.id);
      }
      if (statuses.kept.indexOf(status) >= 0) {
        tally.conflicts += 1;
        conflicts.push({
          conflictId: result.conflict_id,
          kind: item.kind,
          personId: global.CloverOutbox.personOf(item),
          at: answer.server_time || new Date().toISOString(),
        });
        return CloverStore.outbox.remove(item.id);
      }
      // refused, invalid, or the server failed on this one (its message names a reference)
      if (statuses.attention.indexOf(status) >= 0) {
        tally.attention += 1;
        return CloverStore.outbox.update([item.id], {
          state: "attention",
          lastError: { status: status, errors: result.errors || {}, reference: result.reference || null },
        });
      }
      // no answer for this one: it stays, to be sent again
      return CloverStore.outbox.update([item.id], { state: "waiting" });
    });
    return Promise.all(work).then(function () {
      return rememberConflicts(userId, conflicts);
    }).then(function () { return tally; });
  }

  // the unsent items go back to waiting, each with one more attempt and the reason
  function putBack(items, error) {
    var ids = items.map(function (item) { return item.id; });
    return CloverStore.outbox.update(ids, function (row) {
      return { state: "waiting", attempts: row.attempts + 1, lastError: { status: error.reason, message: error.message } };
    });
  }

  function push(userId, token) {
    var tally = { confirmed: 0, attention: 0, conflicts: 0, sent: 0 };
    function next() {
      return CloverStore.outbox.list(userId).then(function (all) {
        // needs attention: sent again only when she asks (outbox page)
        var size = CloverContract.get().sync.batch_size;
        var batch = all.filter(function (item) { return item.state !== "attention"; }).slice(0, size);
        if (!batch.length) return tally;
        var ids = batch.map(function (item) { return item.id; });
        return CloverStore.outbox.update(ids, { state: "syncing" })
          .then(notify)
          .then(function () { return send(userId, batch, token); })
          .then(
            function (answer) { return settle(userId, batch, answer); },
            function (error) {
              return putBack(batch, error).then(function () { throw error; });
            }
          )
          .then(function (done) {
            tally.sent += batch.length;
            tally.confirmed += done.confirmed;
            tally.attention += done.attention;
            tally.conflicts += done.conflicts;
            // settled items left; items kept for attention are skipped next round
            return next();
          });
      });
    }
    return next();
  }

  // kept with the version the server tells (as offline-pages.js does): the next download
  // then skips it
  function savePage(userId, url, savedAt) {
    var asked = { headers: { Accept: "text/html", "X-Clover-Offline": "1" } };
    return fetchWithTimeout(url, asked).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (!response.ok || response.redirected || type.indexOf("text/html") !== 0) return null;
      var version = response.headers.get("X-Clover-Page-Version");
      // (not kept if she signed out meanwhile: her pages are gone and must stay gone)
      return response.text().then(function (html) {
        return CloverStore.savePage(userId, url, html, savedAt, version);
      });
    }).catch(function () { return null; });
  }

  // what changed in her caseload since the last pull: those pages saved again, one at a time
  function pull(userId) {
    return CloverStore.downloadedAt(userId).then(function (downloaded) {
      // she never kept an offline copy on this phone: nothing to refresh
      if (!downloaded) return null;
      var key = "cursor:" + userId;
      var pullUrl = CloverContract.get().urls.pull;
      var asJson = { headers: { Accept: "application/json" } };
      return CloverStore.getMeta(key).then(function (cursor) {
        // the download (offline-pages.js) takes the first cursor before it saves every page
        if (!cursor) return null;
        return fetchWithTimeout(pullUrl + "?cursor=" + encodeURIComponent(cursor), asJson);
      }).then(function (response) {
        // a cursor the server no longer accepts: start again from everything in her caseload
        if (response && response.status === 400) return fetchWithTimeout(pullUrl, asJson);
        return response;
      }).then(function (response) {
        if (!response) return null;
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || response.redirected || type.indexOf("application/json") !== 0) return null;
        return response.json().then(function (changes) {
          return refresh(userId, changes).then(function () { return CloverStore.setMeta(key, changes.cursor); });
        });
      }).catch(function () { return null; });
    });
  }

  function refresh(userId, changes) {
    var people = changes.people || [];
    var removed = changes.removed || [];
    var savedAt = new Date().toISOString();
    var urls = CloverContract.get().urls;
    var gone = [];
    removed.forEach(function (id) { gone.push(CloverContract.url("ledger", id), CloverContract.url("visit_form", id)); });
    return CloverStore.forgetPages(userId, gone).then(function () {
      return CloverStore.pageUrls(userId);
    }).then(function (stored) {
      var again = [];
      // the lists (Today, every page of People) show who changed
      if (people.length || removed.length) {
        again = stored.filter(function (url) { return url === urls.today || url.split("?")[0] === urls.people; });
      }
      people.forEach(function (id) { again.push(CloverContract.url("ledger", id), CloverContract.url("visit_form", id)); });
      return again.reduce(function (chain, url) {
        return chain.then(function () { return savePage(userId, url, savedAt); });
      }, Promise.resolve());
    });
  }

  // tell the open pages the outbox changed (the worker posts to them; a page fires an event)
  function notify() {
    if (global.document) {
      global.dispatchEvent(new CustomEvent("clover:outbox"));
      return Promise.resolve();
    }
    return global.clients.matchAll({ type: "window" }).then(function (pages) {
      pages.forEach(function (page) { page.postMessage({ type: "clover:outbox" }); });
    });
  }

  function withLock(userId, work) {
    var locks = global.navigator && global.navigator.locks;
    if (!locks) return work();
    return locks.request("clover-sync:" + userId, work);
  }

  // one run for this user: push everything waiting, then pull; rejects when it must retry
  function run(userId, token) {
    if (!userId) return Promise.resolve(null);
    if (running[userId]) return running[userId];
    var result = withLock(userId, function () {
      return CloverContract.load()
        .catch(function (error) { throw new SyncError("retry", "no contract: " + error.message); })
        .then(function () { return CloverStore.setMeta("syncing:" + userId, true); })
        .then(notify)
        .then(function () { return push(userId, token); })
        .then(function (tally) {
          return pull(userId).then(function () {
            return CloverStore.setMeta("synced:" + userId, new Date().toISOString());
          }).then(function () {
            return CloverStore.setMeta("problem:" + userId, null);
          }).then(function () { return tally; });
        }, function (error) {
          return CloverStore.setMeta("problem:" + userId, error.reason || "retry").then(function () { throw error; });
        });
    });
    running[userId] = result.then(
      function (tally) { delete running[userId]; return tally; },
      function (error) { delete running[userId]; throw error; }
    ).then(function (tally) {
      return finish(userId).then(function () { return tally; });
    }, function (error) {
      return finish(userId).then(function () { throw error; });
    });
    return running[userId];
  }

  function finish(userId) {
    return CloverStore.setMeta("syncing:" + userId, false).then(notify);
  }

  // the badge's facts: {count, syncing, problem, syncedAt}
  function status(userId) {
    return Promise.all([
      CloverStore.outbox.list(userId),
      CloverStore.getMeta("syncing:" + userId),
      CloverStore.getMeta("problem:" + userId),
      CloverStore.getMeta("synced:" + userId),
    ]).then(function (found) {
      var items = found[0];
      return {
        count: items.length,
        attention: items.filter(function (item) { return item.state === "attention"; }).length,
        syncing: Boolean(found[1]),
        problem: found[2],
        syncedAt: found[3],
      };
    });
  }

  // where the caseload stands now, taken before a full download so nothing slips between
  function startCursor(userId) {
    return CloverContract.load().then(function (contract) {
      return fetchWithTimeout(contract.urls.pull, { headers: { Accept: "application/json" } });
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (!response.ok || type.indexOf("application/json") !== 0) return null;
      return response.json().then(function (changes) { return changes.cursor || null; });
    }).catch(function () { return null; });
  }

  function keepCursor(userId, cursor) {
    return cursor ? CloverStore.setMeta("cursor:" + userId, cursor) : Promise.resolve();
  }

  // resolves once this context's run for the user (if any) is over, however it ended
  function settled(userId) {
    var current = running[userId];
    return current ? current.then(function () {}, function () {}) : Promise.resolve();
  }

  global.CloverSync = {
    settled: settled,
    run: run,
    status: status,
    backoff: backoff,
    notify: notify,
    startCursor: startCursor,
    keepCursor: keepCursor,
  };
})(self);
