// The one offline store: the only code that reads or writes Clover's IndexedDB.
// Loaded by the pages (a script tag) and by the service worker (importScripts), so a later
// change (encrypting it under a PIN) happens here and nowhere else.
//
//   pages   {userId, url, html, savedAt}      key [userId, url], index byUser
//   outbox  {id, userId, kind, payload, createdAt, state, attempts, lastError}
//                                             key id (client UUID), indexes byUser, byUserCreated
//   drafts  {userId, key, value}              key [userId, key] (visit form drafts)
//   meta    {key, value}                      "currentUser", "download:<userId>",
//                                             "token:<userId>", "cursor:<userId>",
//                                             "synced:<userId>", "conflicts:<userId>"
(function (global) {
  "use strict";

  var DB_NAME = "clover";
  var DB_VERSION = 2;
  var OUTBOX_STATES = ["waiting", "syncing", "attention"];
  var opening = null;

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
  }

  function open() {
    if (opening) return opening;
    opening = new Promise(function (resolve, reject) {
      var request = global.indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function (event) {
        upgrade(request.result, event.oldVersion);
      };
      request.onsuccess = function () {
        var db = request.result;
        // a newer app version wants to upgrade: let it, and reopen on next use
        db.onversionchange = function () {
          db.close();
          opening = null;
        };
        resolve(db);
      };
      request.onerror = function () {
        opening = null;
        reject(request.error);
      };
      request.onblocked = function () {
        opening = null;
        reject(new Error("the offline store is open in an older version of Clover"));
      };
    });
    return opening;
  }

  function done(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  // run work(stores) in one transaction; resolves with its result once committed
  function transact(names, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(names, mode);
        var stores = {};
        names.forEach(function (name) { stores[name] = tx.objectStore(name); });
        var result;
        Promise.resolve(work(stores)).then(function (value) { result = value; }, function (error) {
          tx.abort();
          reject(error);
        });
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error || new Error("aborted")); };
      });
    });
  }

  function getMeta(key) {
    return transact(["meta"], "readonly", function (s) {
      return done(s.meta.get(key)).then(function (row) { return row ? row.value : null; });
    });
  }

  function setMeta(key, value) {
    return transact(["meta"], "readwrite", function (s) {
      return done(s.meta.put({ key: key, value: value }));
    });
  }

  // who is signed in on this device; pages of anyone else are deleted (their outbox stays)
  function useUser(userId) {
    return transact(["meta", "pages"], "readwrite", function (s) {
      return done(s.meta.get("currentUser")).then(function (row) {
        var previous = row ? row.value : null;
        s.meta.put({ key: "currentUser", value: userId || null });
        if (!userId) return previous;
        return done(s.pages.getAllKeys()).then(function (keys) {
          keys.forEach(function (key) {
            if (key[0] !== userId) s.pages.delete(key);
          });
          return done(s.meta.getAllKeys()).then(function (metaKeys) {
            metaKeys.forEach(function (key) {
              if (key.indexOf("download:") === 0 && key !== "download:" + userId) s.meta.delete(key);
            });
            return previous;
          });
        });
      });
    });
  }

  function currentUser() {
    return getMeta("currentUser");
  }

  function savePage(userId, url, html, savedAt) {
    return transact(["pages"], "readwrite", function (s) {
      return done(s.pages.put({ userId: userId, url: url, html: html, savedAt: savedAt }));
    });
  }

  // the page kept for this user, or null: a page is never read under another user's id
  function readPage(userId, url) {
    if (!userId) return Promise.resolve(null);
    return transact(["pages"], "readonly", function (s) {
      return done(s.pages.get([userId, url])).then(function (row) { return row || null; });
    });
  }

  function pageUrls(userId) {
    return transact(["pages"], "readonly", function (s) {
      return done(s.pages.index("byUser").getAllKeys(IDBKeyRange.only(userId))).then(
        function (keys) { return keys.map(function (key) { return key[1]; }); }
      );
    });
  }

  // drop this user's pages that are not in keep (people no longer on her caseload)
  function keepOnlyPages(userId, keep) {
    var wanted = new Set(keep);
    return transact(["pages"], "readwrite", function (s) {
      return done(s.pages.index("byUser").getAllKeys(IDBKeyRange.only(userId))).then(
        function (keys) {
          var removed = 0;
          keys.forEach(function (key) {
            if (!wanted.has(key[1])) {
              s.pages.delete(key);
              removed += 1;
            }
          });
          return removed;
        }
      );
    });
  }

  // pages of people who left her caseload
  function forgetPages(userId, urls) {
    return transact(["pages"], "readwrite", function (s) {
      urls.forEach(function (url) { s.pages.delete([userId, url]); });
    });
  }

  function downloadedAt(userId) {
    return getMeta("download:" + userId);
  }

  function setDownloadedAt(userId, savedAt) {
    return setMeta("download:" + userId, savedAt);
  }

  function userRange(userId) {
    return IDBKeyRange.bound([userId, ""], [userId, "\uffff"]);
  }

  // signing out: this user's pages, drafts, token and download time go; her outbox stays
  // on the phone (sent when she signs in again)
  function forgetUser(userId) {
    return transact(["pages", "drafts", "meta"], "readwrite", function (s) {
      ["download:", "token:", "cursor:"].forEach(function (prefix) {
        s.meta.delete(prefix + userId);
      });
      s.drafts.delete(userRange(userId));
      return done(s.pages.index("byUser").getAllKeys(IDBKeyRange.only(userId))).then(
        function (keys) { keys.forEach(function (key) { s.pages.delete(key); }); }
      );
    }).then(function () {
      return currentUser().then(function (current) {
        if (current === userId) return setMeta("currentUser", null);
        return null;
      });
    });
  }

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

  var outbox = {
    states: OUTBOX_STATES.slice(),
    // add or replace an item (same client UUID = same item); resolves with what was stored
    put: function (item) {
      var row;
      try {
        row = checkItem(item);
      } catch (error) {
        return Promise.reject(error);
      }
      return transact(["outbox"], "readwrite", function (s) {
        return done(s.outbox.put(row)).then(function () { return row; });
      });
    },
    get: function (id) {
      return transact(["outbox"], "readonly", function (s) {
        return done(s.outbox.get(id)).then(function (row) { return row || null; });
      });
    },
    // this user's items, oldest first (the order they are replayed in)
    list: function (userId) {
      return transact(["outbox"], "readonly", function (s) {
        return done(s.outbox.index("byUserCreated").getAll(userRange(userId)));
      });
    },
    // change some fields of stored items in one transaction (missing ones are skipped)
    update: function (ids, changes) {
      return transact(["outbox"], "readwrite", function (s) {
        return Promise.all(ids.map(function (id) {
          return done(s.outbox.get(id)).then(function (row) {
            if (!row) return;
            var next = Object.assign({}, row, typeof changes === "function" ? changes(row) : changes);
            s.outbox.put(checkItem(next));
          });
        }));
      });
    },
    count: function (userId) {
      return transact(["outbox"], "readonly", function (s) {
        return done(s.outbox.index("byUser").count(IDBKeyRange.only(userId)));
      });
    },
    // only once the server has confirmed the item
    remove: function (id) {
      return transact(["outbox"], "readwrite", function (s) {
        return done(s.outbox.delete(id));
      });
    },
  };

  // drafts of a form, per user: only the signed-in user's drafts are ever read
  var drafts = {
    save: function (userId, key, value) {
      return transact(["drafts"], "readwrite", function (s) {
        return done(s.drafts.put({ userId: userId, key: key, value: value }));
      });
    },
    load: function (userId, key) {
      return transact(["drafts"], "readonly", function (s) {
        return done(s.drafts.get([userId, key])).then(function (row) { return row ? row.value : null; });
      });
    },
    clear: function (userId, key) {
      return transact(["drafts"], "readwrite", function (s) {
        return done(s.drafts.delete([userId, key]));
      });
    },
    keys: function (userId) {
      return transact(["drafts"], "readonly", function (s) {
        return done(s.drafts.getAllKeys(userRange(userId))).then(function (keys) {
          return keys.map(function (key) { return key[1]; });
        });
      });
    },
  };

  global.CloverStore = {
    getMeta: getMeta,
    setMeta: setMeta,
    forgetPages: forgetPages,
    drafts: drafts,
    useUser: useUser,
    currentUser: currentUser,
    savePage: savePage,
    readPage: readPage,
    pageUrls: pageUrls,
    keepOnlyPages: keepOnlyPages,
    downloadedAt: downloadedAt,
    setDownloadedAt: setDownloadedAt,
    forgetUser: forgetUser,
    outbox: outbox,
  };
})(self);
