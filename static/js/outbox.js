// The outbox: visits, group sessions and contact corrections kept on the phone until the
// server has them.
// Loaded by the pages and by the service worker (importScripts): the one place that turns
// a posted form into an item of the sync contract and queues it through CloverStore.
//
//   item    {id, userId, kind, payload, createdAt, state, attempts, lastError}
//   payload {id, type, record_id, base_version, data}      (what /api/v1/sync/push takes)
/* global CloverStore, CloverContract */
(function (global) {
  "use strict";

  // the forms, their kinds and the fields come from the shared contract (contract.js):
  // every function here runs once CloverContract.load() has resolved
  var SYNC_TAG = "clover-outbox";

  // which outbox form posts to this path, and the record it names: {kind, recordId} or null
  function formAt(pathname) {
    var forms = CloverContract.get().forms;
    for (var i = 0; i < forms.length; i += 1) {
      var ids = CloverContract.match(forms[i].path, pathname);
      if (ids) return { kind: forms[i].kind, recordId: ids[0] };
    }
    return null;
  }

  // the posted fields as the server's form reads them: groups as lists, the rest as text
  function fieldsOf(entries) {
    var lists = CloverContract.get().fields.list;
    var fields = {};
    lists.forEach(function (name) { fields[name] = []; });
    entries.forEach(function (pair) {
      var name = pair[0];
      var value = typeof pair[1] === "string" ? pair[1] : "";
      if (lists.indexOf(name) >= 0) fields[name].push(value);
      else fields[name] = value;
    });
    return fields;
  }

  function version(value) {
    var number = parseInt(value, 10);
    return isNaN(number) ? null : number;
  }

  function payloadOf(form, fields) {
    var data = {};
    var shared = CloverContract.get().fields;
    if (form.kind === "person.contact") {
      shared.contact.forEach(function (name) {
        if (name in fields) data[name] = fields[name];
      });
      return {
        // the correction form names its change "item_id"
        id: fields.item_id || fields.id || global.crypto.randomUUID(),
        type: form.kind,
        record_id: form.recordId,
        base_version: version(fields.base_version),
        data: data,
      };
    }
    // sent beside the data, never inside it
    Object.keys(fields).forEach(function (name) {
      if (shared.not_data.indexOf(name) < 0) data[name] = fields[name];
    });
    // a new record (a visit, a group session) is made under the id the form was given;
    // a form whose path names a record (her visit form) is for that person
    if (/\.create$/.test(form.kind)) {
      if (form.recordId) data.person_id = form.recordId;
      var recordId = fields.id || global.crypto.randomUUID();
      return { id: recordId, type: form.kind, record_id: recordId, base_version: null, data: data };
    }
    // a correction: a fresh UUID per change, so a resend of this change is a duplicate
    return {
      id: global.crypto.randomUUID(),
      type: form.kind,
      record_id: form.recordId,
      base_version: version(fields.base_version),
      data: data,
    };
  }

  // the outbox item for a form posted to `pathname` with `entries` ([name, value] pairs)
  function itemFromForm(pathname, entries, userId) {
    var form = formAt(pathname);
    if (!form || !userId) return null;
    var payload = payloadOf(form, fieldsOf(entries));
    return {
      id: payload.id,
      userId: userId,
      kind: payload.type,
      payload: payload,
      createdAt: new Date().toISOString(),
      state: "waiting",
      attempts: 0,
      lastError: null,
    };
  }

  // the person whose ledger shows this item
  function personOf(item) {
    var payload = item.payload || {};
    if (payload.type === "person.contact") return payload.record_id;
    return payload.data ? payload.data.person_id || null : null;
  }

  function ledgerUrl(item) {
    var person = personOf(item);
    return person ? CloverContract.url("ledger", person) : CloverContract.get().urls.outbox;
  }

  // where a form queued here goes next: back where she came from (Today when the form says
  // so, else the ledger), told it waits on the phone (app.js reads the #)
  function backUrl(item, entries) {
    var today = entries.some(function (e) { return e[0] === "return_to" && e[1] === "today"; });
    return (today ? CloverContract.url("today") : ledgerUrl(item)) + "#saved-on-phone";
  }

  // Background Sync, where the browser has it: the worker sends the outbox once online
  function askForSync(registration) {
    if (!registration || !registration.sync) return Promise.resolve(false);
    return registration.sync.register(SYNC_TAG).then(
      function () { return true; },
      function () { return false; }
    );
  }

  function registration() {
    if (global.registration) return Promise.resolve(global.registration);
    if (global.navigator && global.navigator.serviceWorker) {
      return global.navigator.serviceWorker.getRegistration();
    }
    return Promise.resolve(null);
  }

  // keep it: stored first, then (best effort) a Background Sync is asked for
  function queue(item) {
    return CloverStore.outbox.put(item).then(function (stored) {
      return registration()
        .then(askForSync)
        .catch(function () { return false; })
        .then(function () { return stored; });
    });
  }

  global.CloverOutbox = {
    SYNC_TAG: SYNC_TAG,
    formAt: formAt,
    itemFromForm: itemFromForm,
    personOf: personOf,
    ledgerUrl: ledgerUrl,
    backUrl: backUrl,
    queue: queue,
  };
})(self);
