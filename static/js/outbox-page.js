// What the outbox holds, shown where she looks: on a person's ledger (entries marked
// "waiting to sync") and on the Outbox page (every item with its state, the server's
// messages, conflicts to resolve). Only the signed-in user's items are ever read. Which
// page is a ledger and where a conflict is resolved come from the shared contract.
/* global CloverStore, CloverOutbox, CloverContract */
(function () {
  "use strict";

  // the Outbox page's heading of the group sessions waiting, in place of a person's id
  var GROUPS = "groups";

  function labels() {
    var holder = document.getElementById("outbox-labels");
    return holder ? JSON.parse(holder.dataset.labels) : null;
  }

  function whoIsHere() {
    if ("userId" in document.body.dataset) return Promise.resolve(document.body.dataset.userId || null);
    return CloverStore.currentUser().catch(function () { return null; });
  }

  function element(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null) el.textContent = text;
    return el;
  }

  function formatTime(iso) {
    var options = { dateStyle: "medium", timeStyle: "short" };
    return new Intl.DateTimeFormat(document.documentElement.lang, options).format(new Date(iso));
  }

  // "home visit · 3 Jun 10:00" or "contact correction"
  function describe(item, text) {
    var data = (item.payload && item.payload.data) || {};
    var title = text.kinds[item.kind] || item.kind;
    if (item.kind !== "person.contact" && data.kind && text.visitKinds[data.kind]) {
      var edit = /\.edit$/.test(item.kind);
      title = text.visitKinds[data.kind] + (edit ? " · " + text.kinds[item.kind] : "");
    }
    // a group session: its kind and how many attend ("group counselling · 8 people")
    if (/^group\./.test(item.kind) && Array.isArray(data.attendees)) {
      title += " · " + text.attendees.replace("{n}", String(data.attendees.length));
    }
    var when = data.occurred_at ? data.occurred_at.replace("T", " ") : formatTime(item.createdAt);
    return { title: title, when: when };
  }

  // the server's messages for an item that needs attention
  function problems(item, text) {
    var error = item.lastError || {};
    var errors = error.errors || {};
    return Object.keys(errors).map(function (field) {
      var name = field === "_form" ? "" : (text.fields[field] || field) + ": ";
      return name + [].concat(errors[field]).join(" ");
    });
  }

  function entry(item, text, tag) {
    var li = element(tag, "timeline-item outbox-entry");
    li.dataset.outboxId = item.id;
    li.dataset.state = item.state;
    var about = describe(item, text);
    var head = element("p");
    head.append(element("strong", null, about.title), " ", element("span", "muted", about.when), " ");
    head.append(element("span", "badge outbox-state", text.states[item.state]));
    li.append(head);
    problems(item, text).forEach(function (message) { li.append(element("p", "error", message)); });
    return li;
  }

  // what she recorded, in full, as the ledger shows a saved visit
  function details(item, text) {
    var data = (item.payload && item.payload.data) || {};
    var list = element("dl", "facts");
    Object.keys(text.fields).forEach(function (name) {
      if (name === "kind" || name === "occurred_at") return;  // in the entry's title
      var value = data[name];
      if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) return;
      var choices = text.choices[name] || {};
      var shown = [].concat(value).map(function (v) { return choices[v] || v; }).join("、");
      list.append(element("dt", null, text.fields[name]), element("dd", "prose", shown));
    });
    return list;
  }

  // a new visit still waiting can be corrected before it goes: the form opens with it
  function correctLink(item, text) {
    var person = CloverOutbox.personOf(item);
    if (item.kind !== "visit.create" || item.state === "syncing" || !person) return null;
    var link = element("a", "button link", text.correct);
    link.href = CloverContract.url("visit_form", person) + "#outbox=" + item.id;
    return link;
  }

  function showOnLedger(userId, personId, text) {
    var timeline = document.querySelector("ol.timeline");
    if (!timeline) return Promise.resolve();
    return CloverStore.outbox.list(userId).then(function (items) {
      timeline.querySelectorAll(".outbox-entry").forEach(function (el) { el.remove(); });
      var mine = items.filter(function (item) { return CloverOutbox.personOf(item) === personId; });
      var empty = timeline.querySelector("li.empty");
      if (empty) empty.hidden = mine.length > 0;
      // newest first, like the timeline
      mine.forEach(function (item) {
        var li = entry(item, text, "li");
        li.append(details(item, text));
        var correct = correctLink(item, text);
        if (correct) {
          var actions = element("p", "actions no-print");
          actions.append(correct);
          li.append(actions);
        }
        timeline.prepend(li);
      });
    });
  }

  function itemActions(item, text) {
    var actions = element("p", "actions");
    var open = element("a", "button link", text.openLedger);
    open.href = CloverOutbox.ledgerUrl(item);
    actions.append(open);
    if (item.state === "attention") {
      var retry = element("button", "button", text.retry);
      retry.type = "button";
      retry.dataset.outboxRetry = item.id;
      var discard = element("button", "button link danger", text.discard);
      discard.type = "button";
      discard.dataset.outboxDiscard = item.id;
      actions.append(retry, discard);
    }
    return actions;
  }

  // her name, from her ledger as kept on this phone (the outbox holds ids only)
  function nameOf(userId, personId, text) {
    if (personId === GROUPS) return Promise.resolve(text.groupSessions);
    if (!personId) return Promise.resolve(text.someoneElse);
    return CloverStore.readPage(userId, CloverContract.url("ledger", personId))
      .then(function (kept) {
        if (!kept || !kept.html) return text.someoneElse;
        var doc = new DOMParser().parseFromString(kept.html, "text/html");
        var heading = doc.querySelector("#person-name");
        return heading ? heading.textContent.trim() : text.someoneElse;
      })
      .catch(function () { return text.someoneElse; });
  }

  // the items of each person together, people in the order their first item waits
  function byPerson(items) {
    var groups = new Map();
    items.forEach(function (item) {
      // group sessions together, under their own heading: they are for several people
      var person = /^group\./.test(item.kind) ? GROUPS : CloverOutbox.personOf(item);
      if (!groups.has(person)) groups.set(person, []);
      groups.get(person).push(item);
    });
    return Array.from(groups.entries());
  }

  function showOutboxPage(page, userId, text) {
    var list = page.querySelector("[data-outbox-list]");
    var conflicts = document.querySelector("[data-outbox-conflicts]");
    page.querySelector("[data-outbox-signed-out]").hidden = Boolean(userId);
    if (!userId) return Promise.resolve();
    return Promise.all([CloverStore.outbox.list(userId), CloverStore.getMeta("conflicts:" + userId)]).then(
      function (found) {
        var groups = byPerson(found[0]);
        return Promise.all(groups.map(function (group) { return nameOf(userId, group[0], text); }))
          .then(function (names) { return { found: found, groups: groups, names: names }; });
      }
    ).then(
      function (shown) {
        var found = shown.found;
        list.replaceChildren();
        shown.groups.forEach(function (group, index) {
          var person = element("li", "outbox-person");
          person.dataset.personId = group[0] || "";
          person.append(element("h2", "outbox-person-name", shown.names[index]));
          var items = element("ol", "timeline");
          group[1].forEach(function (item) {
            var li = entry(item, text, "li");
            li.append(itemActions(item, text));
            items.append(li);
          });
          person.append(items);
          list.append(person);
        });
        page.querySelector("[data-outbox-empty]").hidden = found[0].length > 0;
        conflicts.replaceChildren();
        (found[1] || []).forEach(function (conflict) {
          var li = element("li", "timeline-item outbox-conflict");
          var link = element("a", null, text.resolve);
          link.href = CloverContract.url("conflict", conflict.conflictId);
          link.dataset.conflictId = conflict.conflictId;
          li.append(element("strong", null, text.kinds[conflict.kind] || conflict.kind), " ",
            element("span", "badge outbox-state", text.states.conflict), " ", link);
          conflicts.append(li);
        });
        document.querySelector("[data-outbox-conflicts-section]").hidden = !(found[1] || []).length;
      }
    );
  }

  function show() {
    var text = labels();
    if (!text || !window.indexedDB) return;
    Promise.all([whoIsHere(), CloverContract.load()]).then(function (found) {
      var userId = found[0];
      var page = document.querySelector("[data-outbox-page]");
      if (page) return showOutboxPage(page, userId, text);
      var ledger = CloverContract.match(found[1].urls.ledger, window.location.pathname);
      if (ledger && userId) return showOnLedger(userId, ledger[0], text);
      return null;
    });
  }

  // the server's list of conflicts is the one that counts: once she opens one, the
  // phone's notice has done its work
  function forgetNotice(conflictId) {
    return whoIsHere().then(function (userId) {
      var key = "conflicts:" + userId;
      return CloverStore.getMeta(key).then(function (known) {
        var left = (known || []).filter(function (c) { return c.conflictId !== conflictId; });
        return CloverStore.setMeta(key, left);
      });
    });
  }

  document.addEventListener("click", function (event) {
    var resolve = event.target.closest("a[data-conflict-id]");
    if (resolve) {
      event.preventDefault();
      forgetNotice(resolve.dataset.conflictId).catch(function () { return null; })
        .then(function () { window.location.assign(resolve.href); });
      return;
    }
    var retry = event.target.closest("[data-outbox-retry]");
    var discard = event.target.closest("[data-outbox-discard]");
    if (retry) {
      CloverStore.outbox.update([retry.dataset.outboxRetry], { state: "waiting", lastError: null })
        .then(whoIsHere)
        // a run already under way listed the outbox before this item was waiting again
        .then(function (userId) { return window.CloverSync.settled(userId); })
        .then(function () { return window.CloverSyncNow(); });
    } else if (discard && window.confirm(labels().discardConfirm)) {
      CloverStore.outbox.remove(discard.dataset.outboxDiscard).then(show);
    }
  });
  window.addEventListener("clover:outbox-shown", show);
  document.addEventListener("DOMContentLoaded", show);
})();
