// What the phone and the server share: the outbox forms and the kind of item each makes,
// the fields, the statuses of an answer, the batch size and the URLs. One JSON document
// built from the Python definitions (app/offline/contract.py), kept by the service worker
// with the app shell, so it is there with no network. Loaded by the pages and the worker.
//
//   contract {forms: [{kind, path}], fields: {list, contact, not_data},
//             statuses: {saved, kept, attention}, sync: {batch_size, max_items}, urls}
//   a path or url is a template: "/people/{person_id}", filled with record ids in order
(function (global) {
  "use strict";

  var URL_PATH = "/offline/contract.json";
  var UUID = "([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})";
  var PLACEHOLDER = /\{(\w+)\}/g;
  var current = null;
  var loading = null;
  var patterns = {};

  // a page asks the worker (its cache, else the server); the same for everyone: no cookies
  var source = function () {
    return fetch(URL_PATH, { credentials: "omit", headers: { Accept: "application/json" } });
  };

  // the worker reads its own cache instead
  function readFrom(read) {
    source = read;
  }

  // the contract, once: later calls get the same one
  function load() {
    if (current) return Promise.resolve(current);
    if (!loading) {
      loading = Promise.resolve()
        .then(function () { return source(); })
        .then(function (response) {
          if (!response || !response.ok) throw new Error("the shared contract is not available");
          return response.json();
        })
        .then(
          function (contract) { current = contract; return contract; },
          function (error) { loading = null; throw error; }
        );
    }
    return loading;
  }

  function loaded() {
    return current !== null;
  }

  // the contract, for code that runs only after load() (every caller awaits it first)
  function get() {
    if (!current) throw new Error("the shared contract is not loaded yet");
    return current;
  }

  function pattern(template) {
    if (!patterns[template]) {
      var source = template.split(PLACEHOLDER).map(function (part, index) {
        // split keeps the placeholder names at the odd places
        return index % 2 ? UUID : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      });
      patterns[template] = new RegExp("^" + source.join("") + "$");
    }
    return patterns[template];
  }

  // the record ids in a path made from this template, in order, or null when it is not one
  function match(template, pathname) {
    var found = pattern(template).exec(pathname);
    return found ? found.slice(1) : null;
  }

  // the URL named `name` with these record ids filled in, in order
  function url(name) {
    var ids = Array.prototype.slice.call(arguments, 1);
    var index = 0;
    return get().urls[name].replace(PLACEHOLDER, function () {
      index += 1;
      return encodeURIComponent(ids[index - 1]);
    });
  }

  global.CloverContract = {
    URL: URL_PATH,
    readFrom: readFrom,
    load: load,
    loaded: loaded,
    get: get,
    match: match,
    url: url,
  };
})(self);
