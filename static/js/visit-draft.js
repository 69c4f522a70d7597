// Drafts of the visit form, kept on the phone while she types, so a phone that locks or
// reloads mid-visit gives them back; cleared once the visit is saved or queued.
//
// Drafts live in the one offline store (CloverStore.drafts), keyed by user + key, where a
// key is the visit UUID ("visit:<id>") or a slot ("slot:new:<person>", "slot:edit:<visit>")
// pointing at the UUID of the slot's open draft, so a reload finds it again.
/* global CloverStore */
(function () {
  "use strict";

  var SAVE_DELAY_MS = 300;

  function draftKey(visitId) { return "visit:" + visitId; }
  function slotKey(slot) { return "slot:" + slot; }

  var storage = {
    save: function (user, key, value) { return CloverStore.drafts.save(user, key, value); },
    load: function (user, key) {
      return CloverStore.drafts.load(user, key).catch(function () { return null; });
    },
    clear: function (user, key) { return CloverStore.drafts.clear(user, key); },
  };

  // the draft of this visit and its slot's pointer to it (once saved on the server or queued)
  function forget(user, visitId) {
    var key = draftKey(visitId);
    return storage.load(user, key).then(function (draft) {
      var cleared = [storage.clear(user, key)];
      if (draft && draft.slot) {
        cleared.push(storage.load(user, slotKey(draft.slot)).then(function (current) {
          if (current === visitId) return storage.clear(user, slotKey(draft.slot));
        }));
      }
      return Promise.all(cleared);
    });
  }
  window.CloverDrafts = { save: storage.save, load: storage.load, clear: storage.clear, forget: forget };

  var SKIP = { csrf_token: true };

  function readFields(form) {
    var fields = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.type === "submit" || el.type === "button") return;
      if (el.type === "checkbox") {
        fields[el.name] = fields[el.name] || [];
        if (el.checked) fields[el.name].push(el.value);
      } else if (el.type === "radio") {
        if (!(el.name in fields)) fields[el.name] = "";
        if (el.checked) fields[el.name] = el.value;
      } else {
        fields[el.name] = el.value;
      }
    });
    return fields;
  }

  function writeFields(form, fields) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || !(el.name in fields)) return;
      var value = fields[el.name];
      if (el.type === "checkbox") el.checked = value.indexOf(el.value) >= 0;
      else if (el.type === "radio") el.checked = value === el.value;
      else el.value = value;
    });
    var kind = form.querySelector('input[name="kind"]:checked');
    if (kind) {
      kind.dispatchEvent(new CustomEvent("change", { bubbles: true, detail: { restored: true } }));
    }
  }

  function keepDrafts(form) {
    var user = form.dataset.draftUser;
    var slot = form.dataset.draftSlot;
    var timer = null;
    var discarded = false;

    function saveNow() {
      clearTimeout(timer);
      // queued in the outbox (outbox.js): nothing left to keep
      if (discarded || form.hasAttribute("data-draft-done")) return Promise.resolve();
      var visitId = form.elements.id.value;
      var draft = { slot: slot, savedAt: new Date().toISOString(), fields: readFields(form) };
      return storage.save(user, draftKey(visitId), draft).then(function () {
        return storage.save(user, slotKey(slot), visitId);
      }).catch(function () { /* storage full or refused: the form still works */ });
    }
    function saveSoon() {
      clearTimeout(timer);
      timer = setTimeout(saveNow, SAVE_DELAY_MS);
    }
    form.addEventListener("input", saveSoon);
    form.addEventListener("change", saveSoon);
    form.addEventListener("submit", saveNow);
    // a phone that locks or switches apps may never come back to this page
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") saveNow();
    });
    window.addEventListener("pagehide", saveNow);

    var notice = document.querySelector("[data-draft-notice]");
    var discard = document.querySelector("[data-draft-discard]");
    if (discard) {
      discard.addEventListener("click", function () {
        var visitId = form.elements.id.value;
        discarded = true;
        clearTimeout(timer);
        Promise.all([storage.clear(user, draftKey(visitId)), storage.clear(user, slotKey(slot))])
          .then(function () { window.location.reload(); });
      });
    }
    if (!form.hasAttribute("data-draft-fresh") || form.dataset.outboxItem) return Promise.resolve();
    // the copy kept for offline use carries the UUID it was rendered with: every visit
    // recorded from it needs its own, minted here (a restored draft brings back its own)
    if (document.body.hasAttribute("data-saved-copy") && slot.indexOf("new:") === 0) {
      form.elements.id.value = window.crypto.randomUUID();
    }
    return storage.load(user, slotKey(slot)).then(function (visitId) {
      return visitId ? storage.load(user, draftKey(visitId)) : null;
    }).then(function (draft) {
      if (!draft || !draft.fields) return;
      writeFields(form, draft.fields);
      if (notice) notice.hidden = false;
    });
  }

  function clearSaved(marker) {
    forget(marker.dataset.draftUser, marker.dataset.visitSaved).then(function () {
      // a reload of this page should not look like another save
      var url = new URL(window.location.href);
      url.searchParams.delete("saved");
      window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    });
  }

  // a new visit waiting in the outbox, opened from her ledger to correct it before it
  // syncs (#outbox=<id>): it comes back into the form under its own id, and saving it
  // takes it out of the outbox first, so it is sent once, as corrected (queued again
  // with no connection, or saved on the server)
  function openWaiting(form) {
    var match = /^#outbox=([0-9a-f-]{36})$/i.exec(window.location.hash);
    if (!match) return Promise.resolve();
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
    return CloverStore.outbox.get(match[1]).then(function (item) {
      var waiting = item && item.userId === form.dataset.draftUser && item.kind === "visit.create";
      if (!waiting || item.state === "syncing") return;
      writeFields(form, item.payload.data);
      form.elements.id.value = item.id;
      form.dataset.outboxItem = item.id;
      form.addEventListener("submit", function (event) {
        if (form.dataset.outboxReleased) return;
        event.preventDefault();
        CloverStore.outbox.remove(item.id).catch(function () { return null; }).then(function () {
          form.dataset.outboxReleased = "yes";
          form.requestSubmit();
        });
      });
    }).catch(function () { /* not on this phone any more: a fresh form */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("visit-form");
    if (!window.indexedDB || !window.CloverStore) return;
    if (form && form.dataset.draftUser) {
      openWaiting(form).then(function () { keepDrafts(form); });
    }
    var marker = document.querySelector("[data-visit-saved]");
    if (marker) clearSaved(marker);
  });
})();
