// The outbox: visits and contact corrections kept on the phone until the server has them.
// Loaded by the pages and by the service worker (importScripts): the one place that turns
// a posted form into an item of the sync contract and queues it through CloverStore.
//
//   item    {id, userId, kind, payload, createdAt, state, attempts, lastError}
//   payload {id, type, record_id, base_version, data}      (what /api/v1/sync/push takes)
/* global CloverStore */
(function (global) {
  "use strict";

  var UUID = "([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})";
  var FORMS = [
    { kind: "visit.create", pattern: new RegExp("^/people/" + UUID + "/visits/new$") },
    { kind: "visit.edit", pattern: new RegExp("^/visits/" + UUID + "/edit$") },
    { kind: "person.contact", pattern: new RegExp("^/people/" + UUID + "/contact$") },
  ];
  var LIST_FIELDS = ["participants", "risk_flags", "help_given", "difficulties"];
  var CONTACT_FIELDS = ["phone", "address"];
  // sent beside the data, never inside it
  var NOT_DATA = { csrf_token: true, id: true, item_id: true, base_version: true };
  var SYNC_TAG = "clover-outbox";

  // which outbox form posts to this path, and the record it names: {kind, recordId} or null
  function formAt(pathname) {
    for (var i = 0; i < FORMS.length; i += 1) {
      var match = FORMS[i].pattern.exec(pathname);
      if (match) return { kind: FORMS[i].kind, recordId: match[1] };
    }
    return null;
  }

  // the posted fields as the server's form reads them: groups as lists, the rest as text
  function fieldsOf(entries) {
    var fields = {};
    LIST_FIELDS.forEach(function (name) { fields[name] = []; });
    entries.forEach(function (pair) {
      var name = pair[0];
      var value = typeof pair[1] === "string" ? pair[1] : "";
      if (LIST_FIELDS.indexOf(name) >= 0) fields[name].push(value);
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
    if (form.kind === "person.contact") {
      CONTACT_FIELDS.forEach(function (name) {
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
    Object.keys(fields).forEach(function (name) {
      if (!NOT_DATA[name]) data[name] = fields[name];
    });
    if (form.kind === "visit.create") {
      data.person_id = form.recordId;
      var visitId = fields.id || global.crypto.randomUUID();
      return { id: visitId, type: form.kind, record_id: visitId, base_version: null, data: data };
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
    return person ? "/people/" + person : "/outbox";
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
    queue: queue,
  };
})(self);
