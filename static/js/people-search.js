// The people search with no connection: the list pages kept on this phone (sealed in the
// offline store) are searched as the server searches (app/people/listing.py `_matching`):
// digits are the end of her phone number (or, four and more, her ID card's last four),
// anything else is looked for in her name's keys (name, pinyin, initials); then her
// status and officer. The order is the list's own: who is due first.
(function () {
  "use strict";
  var LIST = "/people/";

  function offline() {
    return !navigator.onLine || document.body.hasAttribute("data-saved-copy");
  }

  function normalise(text) {
    return text.split(/\s+/).join("").toLowerCase();
  }

  function pageNumber(url) {
    var match = /[?&]page=(\d+)/.exec(url);
    return match ? Number(match[1]) : 1;
  }

  var kept = null;
  function keptRows() {
    if (kept) return kept;
    var userId = document.body.dataset.userId;
    kept = CloverStore.pageUrls(userId)
      .then(function (urls) {
        var lists = urls.filter(function (url) {
          return url === LIST || url.indexOf(LIST + "?") === 0;
        });
        lists.sort(function (a, b) { return pageNumber(a) - pageNumber(b); });
        return Promise.all(lists.map(function (url) { return CloverStore.readPage(userId, url); }));
      })
      .then(function (pages) {
        var seen = new Set();
        var rows = [];
        pages.forEach(function (page) {
          if (!page) return;
          var doc = new DOMParser().parseFromString(page.html, "text/html");
          doc.querySelectorAll("li.person-row[data-search-keys]").forEach(function (row) {
            var link = row.querySelector("a.row-link");
            var href = link ? link.getAttribute("href") : "";
            if (seen.has(href)) return;
            seen.add(href);
            rows.push(row);
          });
        });
        return rows;
      });
    kept.catch(function () { kept = null; });
    return kept;
  }

  function matches(row, text, status, officer) {
    if (/^\d+$/.test(text)) {
      var phone = row.dataset.phone || "";
      var tail = row.dataset.idTail || "";
      if (!(phone.endsWith(text) || (text.length >= 4 && tail === text.slice(-4)))) return false;
    } else if (text && row.dataset.searchKeys.indexOf(text) < 0) {
      return false;
    }
    if (status && row.dataset.status !== status) return false;
    if (officer && row.dataset.officer !== officer) return false;
    return true;
  }

  function show(results, rows) {
    var count = document.createElement("p");
    count.className = "muted small";
    count.id = "people-count";
    count.textContent = results.dataset.labelFound.replace("{n}", rows.length);
    var list = document.createElement("ul");
    list.className = "list card";
    rows.forEach(function (row) { list.append(document.importNode(row, true)); });
    if (!rows.length) {
      var empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = results.dataset.labelNone;
      list.append(empty);
    }
    results.replaceChildren(count, list);
  }

  function searchHere(form, results) {
    var text = normalise(form.elements.q.value);
    var status = form.elements.status ? form.elements.status.value : "";
    var officer = form.elements.officer ? form.elements.officer.value : "";
    return keptRows().then(function (rows) {
      show(results, rows.filter(function (row) { return matches(row, text, status, officer); }));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.search");
    var results = document.getElementById("people-results");
    if (!form || !results || !window.CloverStore || !document.body.dataset.userId) return;
    // htmx would ask the server; without a connection the phone answers instead
    document.body.addEventListener("htmx:beforeRequest", function (event) {
      if (event.detail.elt !== form || !offline()) return;
      event.preventDefault();
      searchHere(form, results);
    });
  });
})();
