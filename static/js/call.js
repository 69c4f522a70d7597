// Today's call button: the dialer opens (a tel: link), and when she comes back to Clover
// the visit form is waiting, a phone consultation from the minute the call started
// (visit-form.js reads it from the address's #call=...). Works offline: nothing is sent.
(function () {
  "use strict";
  var KEY = "clover:call";
  var FRESH_MS = 2 * 60 * 60 * 1000;

  function localMinute(date) {
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return date.getFullYear() + "-" + two(date.getMonth() + 1) + "-" + two(date.getDate()) +
      "T" + two(date.getHours()) + ":" + two(date.getMinutes());
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-call-form]");
    if (!link) return;
    try {
      sessionStorage.setItem(KEY, JSON.stringify({ form: link.dataset.callForm, at: Date.now() }));
    } catch (error) {
      // no session storage: the call still goes through, without the form after it
    }
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible") return;
    var call = null;
    try {
      call = JSON.parse(sessionStorage.getItem(KEY) || "null");
      sessionStorage.removeItem(KEY);
    } catch (error) {
      return;
    }
    if (!call || Date.now() - call.at > FRESH_MS) return;
    window.location.assign(call.form + "#call=" + localMinute(new Date(call.at)));
  });
})();
