// The one offline store: the only code that reads or writes Clover's IndexedDB (through the
// vendored idb, idb-8.0.4.min.js). Loaded by the pages (a script tag) and by the service
// worker (importScripts).
//
// Everything that names or describes a person is sealed: AES-GCM under her random data key,
// with the row's place (store, user, id) as additional data, so a sealed value cannot be
// moved to another row. Only ids, times and states stay in clear text.
//
//   pages   {userId, url, savedAt, version, box}
//                                              key [userId, url], index byUser   box: html
//                                              version: the listing's, in clear (a digest)
//   outbox  {id, userId, kind, createdAt, state, attempts, box}
//                                              key id (client UUID), indexes byUser,
//                                              byUserCreated             box: payload, lastError
//   drafts  {userId, key, box}                 key [userId, key]         box: the draft
//   meta    {key, value}                       "currentUser", "device", "download:<userId>",
//                                              "token:<userId>", "cursor:<userId>",
//                                              "synced:<userId>", "conflicts:<userId>" (sealed)
//   keys    {userId, deviceId, salt, iterations, pin, server, failures, lockAfterMinutes}
//           her data key wrapped by her PIN (pin: {iv, data} or null) and by the server's
//           device key (server: {iv, data}); the unwrapped key is a non-extractable
//           CryptoKey held in memory only (setKey), never written anywhere.
//
// Version 2 stores (clear text) are kept as they are by the upgrade and read as they are;
// sealLegacy() seals them in place once her key is at hand, the outbox first, one row at a
// time with the same key, so no item is ever missing.
/* global idb */
(function (global) {
  "use strict";

  var DB_NAME = "clover";
  var DB_VERSION = 3;
  var OUTBOX_STATES = ["waiting", "syncing", "attention"];
  var PIN_ITERATIONS = 600000;
  var MAX_PIN_TRIES = 5;
  var subtle = global.crypto.subtle;
  var encoder = new TextEncoder();
  var decoder = new TextDecoder();
  var opening = null;

  // her data key, in this context's memory only
  var held = { userId: null, key: null };
  var waiting = [];

  // upgrades only ever add: an app update must never lose the outbox
  function upgrade(db, oldVersion) {
    if (oldVersion < 1) {
      var pages = db.createObjectStore("pages", { keyPath: ["userId", "url"] });
      pages.createIndex("byUser", "userId");
      var outbox = db.createObjectStore("outbox", { keyPath: "id" });
      outbox.createIndex("byUser", "userId");
      outbox.createIndex("byUserCreated", ["userId", "createdAt"]);
      db.createObjectStore("meta", { keyPath: "key" });
    }
    if (oldVersion < 2) {
      db.createObjectStore("drafts", { keyPath: ["userId", "key"] });
    }
    if (oldVersion < 3) {
      db.createObjectStore("keys", { keyPath: "userId" });
    }
  }

  function open() {
    if (opening) return opening;
    opening = idb.openDB(DB_NAME, DB_VERSION, {
      upgrade: upgrade,
      // a newer app version wants to upgrade: let it, and reopen on next use
      blocking: function () {
        opening.then(function (db) { db.close(); });
        opening = null;
      },
      terminated: function () { opening = null; },
    });
    opening.catch(function () { opening = null; });
    return opening;
  }

  // --- keys held in memory ---

  function setKey(userId, key) {
    held = { userId: userId, key: key };
    var ready = waiting;
    waiting = [];
    ready.forEach(function (resolve) { resolve(); });
  }

  // closed: signing out, nothing more is sealed or opened here until a key is set again
  function clearKey(closed) {
    held = { userId: null, key: null, closed: Boolean(closed) };
  }

  function heldKey() {
    return held.key;
  }

  function hasKey(userId) {
    return Boolean(held.key) && (!userId || held.userId === userId);
  }

  function lockedError() {
    var error = new Error("the offline store is locked");
    error.reason = "locked";
    return error;
  }

  // her key; a page waits a while for it (lock.js is fetching it), the worker is told at
  // once that it is not there, and nobody reads under another user's key
  var KEY_WAIT_MS = 15000;
  async function keyFor(userId) {
    var deadline = Date.now() + KEY_WAIT_MS;
    while (!hasKey(userId)) {
      if (!global.document || held.key || held.closed || Date.now() >= deadline) {
        throw lockedError();
      }
      await new Promise(function (resolve) {
        waiting.push(resolve);
        setTimeout(resolve, 1000);
      });
    }
    return held.key;
  }

  async function seal(userId, place, value) {
    var key = await keyFor(userId);
    var iv = global.crypto.getRandomValues(new Uint8Array(12));
    var data = await subtle.encrypt(
      { name: "AES-GCM", iv: iv, additionalData: encoder.encode(place) },
      key,
      encoder.encode(JSON.stringify(value))
    );
    return { iv: iv, data: new Uint8Array(data) };
  }

  async function unseal(userId, place, box) {
    var key = await keyFor(userId);
    var data = await subtle.decrypt(
      { name: "AES-GCM", iv: box.iv, additionalData: encoder.encode(place) },
      key,
      box.data
    );
    return JSON.parse(decoder.decode(data));
  }

  function pagePlace(userId, url) { return "pages|" + userId + "|" + url; }
  function outboxPlace(row) { return "outbox|" + row.userId + "|" + row.id; }
  function draftPlace(userId, key) { return "drafts|" + userId + "|" + key; }
  function metaPlace(key) { return "meta|" + key; }

  // what was sealed per-user in meta (the rest of meta is ids and times)
  function sealedMeta(key) {
    return key.indexOf("conflicts:") === 0 ? key.slice("conflicts:".length) : null;
  }

  // --- meta ---

  async function getMeta(key) {
    var db = await open();
    var row = await db.get("meta", key);
    if (!row) return null;
    var owner = sealedMeta(key);
    if (owner && row.box) return unseal(owner, metaPlace(key), row.box);
    return row.value === undefined ? null : row.value;
  }

  async function setMeta(key, value) {
    var owner = sealedMeta(key);
    var row = { key: key, value: value };
    if (owner && value !== null && value !== undefined) {
      row = { key: key, box: await seal(owner, metaPlace(key), value) };
    }
    var db = await open();
    await db.put("meta", row);
  }

  // this phone's id, minted once: names the device, never the person
  async function deviceId() {
    var known = await getMeta("device");
    if (known) return known;
    var minted = global.crypto.randomUUID();
    var db = await open();
    var tx = db.transaction("meta", "readwrite");
    var row = await tx.store.get("device");
    if (row) minted = row.value;
    else await tx.store.put({ key: "device", value: minted });
    await tx.done;
    return minted;
  }

  function userRange(userId) {
    return IDBKeyRange.bound([userId, ""], [userId, "\uffff"]);
  }

  // who is signed in on this device; pages of anyone else are deleted (their outbox stays)
  async function useUser(userId) {
    var db = await open();
    var tx = db.transaction(["meta", "pages"], "readwrite");
    var meta = tx.objectStore("meta");
    var row = await meta.get("currentUser");
    var previous = row ? row.value : null;
    await meta.put({ key: "currentUser", value: userId || null });
    if (userId) {
      var pages = tx.objectStore("pages");
      (await pages.getAllKeys()).forEach(function (key) {
        if (key[0] !== userId) pages.delete(key);
      });
      (await meta.getAllKeys()).forEach(function (key) {
        var download = key.indexOf("download:") === 0 || key.indexOf("download-lang:") === 0;
        if (download && key.slice(key.indexOf(":") + 1) !== userId) meta.delete(key);
      });
    }
    await tx.done;
    return previous;
  }

  function currentUser() {
    return getMeta("currentUser");
  }

  // --- pages ---

  // version: the one the server's listing gave this page (none: fetched again next time).
  // Kept only while she is the one signed in on this phone: a page fetched as she signed
  // out (or as someone else signed in) is not kept, whoever fetched it. True when kept.
  async function savePage(userId, url, html, savedAt, version) {
    var box = await seal(userId, pagePlace(userId, url), html);
    var db = await open();
    var tx = db.transaction(["meta", "pages"], "readwrite");
    var current = await tx.objectStore("meta").get("currentUser");
    var kept = Boolean(current && current.value === userId);
    if (kept) {
      var row = { userId: userId, url: url, savedAt: savedAt, version: version || null, box: box };
      await tx.objectStore("pages").put(row);
    }
    await tx.done;
    return kept;
  }

  // url -> version of the pages kept for this user, read without opening them
  async function pageVersions(userId) {
    var db = await open();
    var versions = {};
    var tx = db.transaction("pages");
    var cursor = await tx.store.index("byUser").openCursor(IDBKeyRange.only(userId));
    while (cursor) {
      if (cursor.value.box && cursor.value.version) versions[cursor.value.url] = cursor.value.version;
      cursor = await cursor.continue();
    }
    await tx.done;
    return versions;
  }

  // the page kept for this user, or null: a page is never read under another user's id
  async function readPage(userId, url) {
    if (!userId) return null;
    var db = await open();
    var row = await db.get("pages", [userId, url]);
    if (!row) return null;
    if (!row.box) return row;
    var html = await unseal(userId, pagePlace(userId, url), row.box);
    return { userId: userId, url: url, html: html, savedAt: row.savedAt };
  }

  async function pageUrls(userId) {
    var db = await open();
    var keys = await db.getAllKeysFromIndex("pages", "byUser", IDBKeyRange.only(userId));
    return keys.map(function (key) { return key[1]; });
  }

  // drop this user's pages that are not in keep (people no longer on her caseload)
  async function keepOnlyPages(userId, keep) {
    var wanted = new Set(keep);
    var db = await open();
    var tx = db.transaction("pages", "readwrite");
    var keys = await tx.store.index("byUser").getAllKeys(IDBKeyRange.only(userId));
    var removed = 0;
    keys.forEach(function (key) {
      if (!wanted.has(key[1])) {
        tx.store.delete(key);
        removed += 1;
      }
    });
    await tx.done;
    return removed;
  }

  // pages of people who left her caseload
  async function forgetPages(userId, urls) {
    var db = await open();
    var tx = db.transaction("pages", "readwrite");
    urls.forEach(function (url) { tx.store.delete([userId, url]); });
    await tx.done;
  }

  function downloadedAt(userId) {
    return getMeta("download:" + userId);
  }

  // and the language her pages were kept in
  async function setDownloadedAt(userId, savedAt, language) {
    await setMeta("download:" + userId, savedAt);
    await setMeta("download-lang:" + userId, language || null);
  }

  function downloadLanguage(userId) {
    return getMeta("download-lang:" + userId);
  }

  // signing out: her pages, drafts, conflicts, token, download time and PIN go; her
  // outbox stays (sent when she signs in again), and so does the server's wrapping of her
  // key while it holds items, so only a full sign-in opens them
  async function forgetUser(userId) {
    var db = await open();
    var tx = db.transaction(["pages", "drafts", "meta", "keys", "outbox"], "readwrite");
    var meta = tx.objectStore("meta");
    ["download:", "download-lang:", "token:", "cursor:", "conflicts:"].forEach(function (prefix) {
      meta.delete(prefix + userId);
    });
    tx.objectStore("drafts").delete(userRange(userId));
    var pages = tx.objectStore("pages");
    (await pages.index("byUser").getAllKeys(IDBKeyRange.only(userId))).forEach(function (key) {
      pages.delete(key);
    });
    var left = await tx.objectStore("outbox").index("byUser").count(IDBKeyRange.only(userId));
    var keys = tx.objectStore("keys");
    var ring = await keys.get(userId);
    if (ring && left) await keys.put(Object.assign({}, ring, { pin: null, failures: 0 }));
    else if (ring) await keys.delete(userId);
    var current = await meta.get("currentUser");
    if (current && current.value === userId) await meta.put({ key: "currentUser", value: null });
    await tx.done;
    if (hasKey(userId)) clearKey();
  }

  // everything of hers on this phone, outbox and keys too: her device key was destroyed
  // (so none of it can be opened again), or she chose to start afresh
  async function wipeUser(userId) {
    await forgetUser(userId);
    var db = await open();
    var tx = db.transaction(["outbox", "keys"], "readwrite");
    var outbox = tx.objectStore("outbox");
    (await outbox.index("byUser").getAllKeys(IDBKeyRange.only(userId))).forEach(function (id) {
      outbox.delete(id);
    });
    tx.objectStore("keys").delete(userId);
    await tx.done;
  }

  // --- the outbox ---

  function checkItem(item) {
    ["id", "userId", "kind"].forEach(function (field) {
      if (!item || typeof item[field] !== "string" || !item[field]) {
        throw new TypeError("an outbox item needs a " + field);
      }
    });
    var state = item.state || "waiting";
    if (OUTBOX_STATES.indexOf(state) < 0) throw new TypeError("unknown outbox state " + state);
    return {
      id: item.id,
      userId: item.userId,
      kind: item.kind,
      payload: item.payload === undefined ? null : item.payload,
      createdAt: item.createdAt || new Date().toISOString(),
      state: state,
      attempts: item.attempts || 0,
      lastError: item.lastError === undefined ? null : item.lastError,
    };
  }

  async function sealItem(item) {
    var box = await seal(item.userId, outboxPlace(item), {
      payload: item.payload,
      lastError: item.lastError,
    });
    return {
      id: item.id,
      userId: item.userId,
      kind: item.kind,
      createdAt: item.createdAt,
      state: item.state,
      attempts: item.attempts,
      box: box,
    };
  }

  async function unsealItem(row) {
    if (!row || !row.box) return row || null;
    var inside = await unseal(row.userId, outboxPlace(row), row.box);
    return checkItem(Object.assign({}, row, { payload: inside.payload, lastError: inside.lastError }));
  }

  var outbox = {
    states: OUTBOX_STATES.slice(),
    // add or replace an item (same client UUID = same item); resolves with what was stored
    put: async function (item) {
      var row = checkItem(item);
      var sealed = await sealItem(row);
      var db = await open();
      await db.put("outbox", sealed);
      return row;
    },
    get: async function (id) {
      var db = await open();
      return unsealItem(await db.get("outbox", id));
    },
    // this user's items, oldest first (the order they are replayed in)
    list: async function (userId) {
      var db = await open();
      var rows = await db.getAllFromIndex("outbox", "byUserCreated", userRange(userId));
      return Promise.all(rows.map(unsealItem));
    },
    // change some fields of stored items (missing ones are skipped); the items are opened
    // and sealed outside the write, which then puts them all in one transaction
    update: async function (ids, changes) {
      var db = await open();
      var rows = await Promise.all(ids.map(function (id) { return db.get("outbox", id); }));
      var sealed = [];
      for (var i = 0; i < rows.length; i += 1) {
        if (!rows[i]) continue;
        var row = await unsealItem(rows[i]);
        var next = Object.assign({}, row, typeof changes === "function" ? changes(row) : changes);
        sealed.push(await sealItem(checkItem(next)));
      }
      var tx = db.transaction("outbox", "readwrite");
      for (var j = 0; j < sealed.length; j += 1) {
        // removed meanwhile (the server confirmed it): it stays removed
        if (await tx.store.getKey(sealed[j].id)) tx.store.put(sealed[j]);
      }
      await tx.done;
    },
    count: async function (userId) {
      var db = await open();
      return db.countFromIndex("outbox", "byUser", IDBKeyRange.only(userId));
    },
    // this user's item ids, oldest first: readable without her key
    ids: async function (userId) {
      var db = await open();
      var rows = await db.getAllFromIndex("outbox", "byUserCreated", userRange(userId));
      return rows.map(function (row) { return row.id; });
    },
    // only once the server has confirmed the item
    remove: async function (id) {
      var db = await open();
      await db.delete("outbox", id);
    },
  };

  // drafts of a form, per user: only the signed-in user's drafts are ever read
  var drafts = {
    save: async function (userId, key, value) {
      var box = await seal(userId, draftPlace(userId, key), value);
      var db = await open();
      await db.put("drafts", { userId: userId, key: key, box: box });
    },
    load: async function (userId, key) {
      var db = await open();
      var row = await db.get("drafts", [userId, key]);
      if (!row) return null;
      if (!row.box) return row.value === undefined ? null : row.value;
      return unseal(userId, draftPlace(userId, key), row.box);
    },
    clear: async function (userId, key) {
      var db = await open();
      await db.delete("drafts", [userId, key]);
    },
    keys: async function (userId) {
      var db = await open();
      var keys = await db.getAllKeys("drafts", userRange(userId));
      return keys.map(function (key) { return key[1]; });
    },
  };

  // seal what an older version kept in clear text, the outbox first: each row is read,
  // sealed and put back under the same key, so at every moment the item is there
  async function sealLegacy(userId) {
    var db = await open();
    var sealedCount = 0;
    var legacy = (await db.getAllFromIndex("outbox", "byUser", IDBKeyRange.only(userId)))
      .filter(function (row) { return !row.box; });
    for (var i = 0; i < legacy.length; i += 1) {
      var sealed = await sealItem(checkItem(legacy[i]));
      var tx = db.transaction("outbox", "readwrite");
      var still = await tx.store.get(sealed.id);
      if (still && !still.box) {
        await tx.store.put(sealed);
        sealedCount += 1;
      }
      await tx.done;
    }
    var draftRows = (await db.getAll("drafts", userRange(userId))).filter(function (row) { return !row.box; });
    for (var d = 0; d < draftRows.length; d += 1) {
      await drafts.save(userId, draftRows[d].key, draftRows[d].value);
      sealedCount += 1;
    }
    var metaKey = "conflicts:" + userId;
    var conflicts = await db.get("meta", metaKey);
    if (conflicts && !conflicts.box) {
      await setMeta(metaKey, conflicts.value);
      sealedCount += 1;
    }
    var pageRows = (await db.getAllFromIndex("pages", "byUser", IDBKeyRange.only(userId)))
      .filter(function (row) { return !row.box; });
    for (var p = 0; p < pageRows.length; p += 1) {
      // a page in clear text never stays: sealed, or (she is not signed in) dropped
      if (!(await savePage(userId, pageRows[p].url, pageRows[p].html, pageRows[p].savedAt))) {
        await db.delete("pages", [userId, pageRows[p].url]);
      }
      sealedCount += 1;
    }
    return sealedCount;
  }

  // --- her key ring: the data key wrapped by her PIN and by the server's device key ---

  function base64urlBytes(text) {
    var padded = text.replace(/-/g, "+").replace(/_/g, "/");
    while (padded.length % 4) padded += "=";
    return Uint8Array.from(global.atob(padded), function (c) { return c.charCodeAt(0); });
  }

  function serverKey(encoded) {
    return subtle.importKey("raw", base64urlBytes(encoded), { name: "AES-GCM" }, false, [
      "wrapKey",
      "unwrapKey",
    ]);
  }

  async function pinKey(pin, salt, iterations) {
    var material = await subtle.importKey("raw", encoder.encode(pin), "PBKDF2", false, ["deriveKey"]);
    return subtle.deriveKey(
      { name: "PBKDF2", salt: salt, iterations: iterations, hash: "SHA-256" },
      material,
      { name: "AES-GCM", length: 256 },
      false,
      ["wrapKey", "unwrapKey"]
    );
  }

  async function wrap(dataKey, wrappingKey, place) {
    var iv = global.crypto.getRandomValues(new Uint8Array(12));
    var data = await subtle.wrapKey("raw", dataKey, wrappingKey, {
      name: "AES-GCM", iv: iv, additionalData: encoder.encode(place),
    });
    return { iv: iv, data: new Uint8Array(data) };
  }

  function unwrap(box, wrappingKey, place, extractable) {
    return subtle.unwrapKey(
      "raw",
      box.data,
      wrappingKey,
      { name: "AES-GCM", iv: box.iv, additionalData: encoder.encode(place) },
      { name: "AES-GCM", length: 256 },
      extractable,
      ["encrypt", "decrypt"]
    );
  }

  async function ring(userId) {
    var db = await open();
    return (await db.get("keys", userId)) || null;
  }

  // change some fields of her ring in one transaction (another page may change others);
  // changes may be a function of the ring as stored
  async function updateRing(userId, changes) {
    var db = await open();
    var tx = db.transaction("keys", "readwrite");
    var row = await tx.store.get(userId);
    if (row) {
      await tx.store.put(Object.assign({}, row, typeof changes === "function" ? changes(row) : changes));
    }
    await tx.done;
    return row || null;
  }

  var keys = {
    MAX_PIN_TRIES: MAX_PIN_TRIES,
    PIN_ITERATIONS: PIN_ITERATIONS,
    ring: ring,
    all: async function () {
      var db = await open();
      return db.getAll("keys");
    },
    // a new data key for her on this phone, wrapped by the server's key (no PIN yet);
    // resolves with the key, non-extractable, for memory
    create: async function (userId, deviceKey, settings) {
      var dataKey = await subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
      var server = await wrap(dataKey, await serverKey(deviceKey), "server|" + userId);
      var fresh = {
        userId: userId,
        deviceId: await deviceId(),
        salt: global.crypto.getRandomValues(new Uint8Array(16)),
        iterations: PIN_ITERATIONS,
        pin: null,
        server: server,
        failures: 0,
        lockAfterMinutes: settings.lockAfterMinutes,
      };
      // another page made hers meanwhile: that one stays, never two keys for one store
      var db = await open();
      var tx = db.transaction("keys", "readwrite");
      var existing = await tx.store.get(userId);
      if (!existing) await tx.store.put(fresh);
      await tx.done;
      if (existing) server = existing.server;
      return unwrap(server, await serverKey(deviceKey), "server|" + userId, false);
    },
    // her key opened with the server's device key (a full sign-in), or null when that key
    // no longer opens it (destroyed and minted anew)
    openWithServer: async function (userId, deviceKey, settings) {
      var row = await ring(userId);
      if (!row || !row.server) return null;
      try {
        var key = await unwrap(row.server, await serverKey(deviceKey), "server|" + userId, false);
        await updateRing(userId, { lockAfterMinutes: settings.lockAfterMinutes });
        return key;
      } catch (error) {
        return null;
      }
    },
    // her PIN wraps the key (first sign-in here, or a new PIN after a full sign-in);
    // a fresh salt every time
    setPin: async function (userId, deviceKey, pin) {
      var row = await ring(userId);
      var dataKey = await unwrap(row.server, await serverKey(deviceKey), "server|" + userId, true);
      var salt = global.crypto.getRandomValues(new Uint8Array(16));
      var wrapped = await wrap(dataKey, await pinKey(pin, salt, PIN_ITERATIONS), "pin|" + userId);
      await updateRing(userId, { salt: salt, iterations: PIN_ITERATIONS, pin: wrapped, failures: 0 });
    },
    // {key} on the right PIN; {tries} left on a wrong one; {dropped} after the last try
    openWithPin: async function (userId, pin) {
      var row = await ring(userId);
      if (!row || !row.pin) return { dropped: true };
      var wrapping = await pinKey(pin, row.salt, row.iterations);
      try {
        var key = await unwrap(row.pin, wrapping, "pin|" + userId, false);
        if (row.failures) await updateRing(userId, { failures: 0 });
        return { key: key };
      } catch (error) {
        var failures = 0;
        await updateRing(userId, function (stored) {
          failures = (stored.failures || 0) + 1;
          return failures >= MAX_PIN_TRIES ? { failures: 0, pin: null } : { failures: failures };
        });
        return failures >= MAX_PIN_TRIES ? { dropped: true } : { tries: MAX_PIN_TRIES - failures };
      }
    },
    // she forgot it: only a full sign-in opens her store from here on
    dropPin: function (userId) {
      return updateRing(userId, { pin: null, failures: 0 });
    },
  };

  global.CloverStore = {
    getMeta: getMeta,
    setMeta: setMeta,
    deviceId: deviceId,
    forgetPages: forgetPages,
    drafts: drafts,
    useUser: useUser,
    currentUser: currentUser,
    savePage: savePage,
    pageVersions: pageVersions,
    readPage: readPage,
    pageUrls: pageUrls,
    keepOnlyPages: keepOnlyPages,
    downloadedAt: downloadedAt,
    setDownloadedAt: setDownloadedAt,
    downloadLanguage: downloadLanguage,
    forgetUser: forgetUser,
    wipeUser: wipeUser,
    sealLegacy: sealLegacy,
    outbox: outbox,
    keys: keys,
    setKey: setKey,
    heldKey: heldKey,
    clearKey: clearKey,
    hasKey: hasKey,
  };
})(self);
