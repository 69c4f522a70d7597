// Drafts of the visit form, kept on the phone while she types, so a phone that locks or
// reloads mid-visit gives them back; cleared once the visit is saved.
//
// Storage goes through three calls only (save/load/clear, each returning a Promise), so
// it can move to the offline store (IndexedDB) without touching the rest.
(function () {
  "use strict";

  var PREFIX = "clover:draft:";
  var SAVE_DELAY_MS = 300;

  var storage = {
    save: function (key, value) {
      try {
        localStorage.setItem(PREFIX + key, JSON.stringify(value));
      } catch (error) {
        return Promise.reject(error);
      }
      return Promise.resolve();
    },
    load: function (key) {
      try {
        var raw = localStorage.getItem(PREFIX + key);
        return Promise.resolve(raw ? JSON.parse(raw) : null);
      } catch (error) {
        return Promise.resolve(null);
      }
    },
    clear: function (key) {
      try {
        localStorage.removeItem(PREFIX + key);
      } catch (error) {
        return Promise.reject(error);
      }
      return Promise.resolve();
    },
  };
  window.CloverDrafts = storage;

  // a draft is keyed by user + visit UUID; a slot (new visit for a person, correction
  // of a visit) points at the UUID of its open draft, so a reload finds it again
  function draftKey(user, visitId) { return "visit:" + user + ":" + visitId; }
  function slotKey(user, slot) { return "slot:" + user + ":" + slot; }

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
    if (form.elements.kind) {
      var restored = new CustomEvent("change", { detail: { restored: true } });
      form.elements.kind.dispatchEvent(restored);
    }
  }

  function keepDrafts(form) {
    var user = form.dataset.draftUser;
    var slot = form.dataset.draftSlot;
    var timer = null;
    var discarded = false;

    function saveNow() {
      clearTimeout(timer);
      if (discarded) return Promise.resolve();
      var visitId = form.elements.id.value;
      var draft = { slot: slot, savedAt: new Date().toISOString(), fields: readFields(form) };
      return storage.save(draftKey(user, visitId), draft).then(function () {
        return storage.save(slotKey(user, slot), visitId);
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
        Promise.all([storage.clear(draftKey(user, visitId)), storage.clear(slotKey(user, slot))])
          .then(function () { window.location.reload(); });
      });
    }
    if (!form.hasAttribute("data-draft-fresh")) return Promise.resolve();
    // a fresh form: bring back the draft this slot was left with, UUID and all
    return storage.load(slotKey(user, slot)).then(function (visitId) {
      return visitId ? storage.load(draftKey(user, visitId)) : null;
    }).then(function (draft) {
      if (!draft || !draft.fields) return;
      writeFields(form, draft.fields);
      if (notice) notice.hidden = false;
    });
  }

  function clearSaved(marker) {
    var user = marker.dataset.draftUser;
    var visitId = marker.dataset.visitSaved;
    var key = draftKey(user, visitId);
    storage.load(key).then(function (draft) {
      var cleared = [storage.clear(key)];
      if (draft && draft.slot) {
        cleared.push(storage.load(slotKey(user, draft.slot)).then(function (current) {
          if (current === visitId) return storage.clear(slotKey(user, draft.slot));
        }));
      }
      return Promise.all(cleared);
    }).then(function () {
      // a reload of this page should not look like another save
      var url = new URL(window.location.href);
      url.searchParams.delete("saved");
      window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("visit-form");
    if (form && form.dataset.draftUser) keepDrafts(form);
    var marker = document.querySelector("[data-visit-saved]");
    if (marker) clearSaved(marker);
  });
})();
