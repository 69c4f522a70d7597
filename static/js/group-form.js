// The group session form: a copy kept for offline use carries the UUID it was rendered
// with, so every session recorded from it gets its own, minted here.
(function () {
  "use strict";

  var form = document.getElementById("group-form");
  if (!form || !form.hasAttribute("data-fresh")) return;
  if (document.body.hasAttribute("data-saved-copy") && window.crypto && window.crypto.randomUUID) {
    form.elements.id.value = window.crypto.randomUUID();
  }
  // an online session has no place to name
  var online = form.elements.online;
  var place = form.elements.place;
  function follow() { place.disabled = online.checked; }
  if (online && place) {
    online.addEventListener("change", follow);
    follow();
  }
})();
