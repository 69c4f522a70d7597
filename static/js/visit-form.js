// The visit form: show the fields the chosen kind asks for, and default the place.
// Runs in the page with no server round trip, so the form also works offline.
(function () {
  "use strict";

  function chosenKind(form) {
    return form.querySelector('input[name="kind"]:checked');
  }

  function showFieldsOfKind(form) {
    var chosen = chosenKind(form);
    var kind = chosen ? chosen.value : "";
    form.querySelectorAll("fieldset[data-kinds]").forEach(function (group) {
      var shown = group.dataset.kinds.split(" ").indexOf(kind) >= 0;
      group.hidden = !shown;
      // a hidden group is not sent: the server would drop it anyway
      group.disabled = !shown;
    });
  }

  function defaultLocation(form) {
    var chosen = chosenKind(form);
    var location = form.elements.location;
    if (chosen && chosen.dataset.location && location && !location.hasAttribute("data-touched")) {
      location.value = chosen.dataset.location;
    }
  }

  // from Today (`#from-today`) the save goes back there; straight after a call from
  // Today (`#call=<local minute it started>`, call.js) the form is a phone consultation at
  // that time, with a one-tap failed attempt for a call nobody answered
  function cameFromToday(form) {
    var call = /^#call=(\d{4}-\d\d-\d\dT\d\d:\d\d)$/.exec(window.location.hash);
    if (!call && window.location.hash !== "#from-today") return;
    // read once: a redirect after the save would carry it on
    history.replaceState(null, "", window.location.pathname + window.location.search);
    form.querySelector("[data-return-to]").value = "today";
    var phone = form.querySelector('input[name="kind"][value="phone_consultation"]');
    var noAnswer = document.getElementById("no-answer-form");
    if (!call || !phone || !noAnswer) return;
    phone.checked = true;
    defaultLocation(form);
    form.elements.occurred_at.value = call[1];
    noAnswer.elements.id.value = window.crypto.randomUUID();
    noAnswer.elements.occurred_at.value = call[1];
    noAnswer.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("visit-form");
    if (!form) return;
    cameFromToday(form);
    form.addEventListener("change", function (event) {
      if (event.target.name === "location") event.target.setAttribute("data-touched", "");
      if (event.target.name !== "kind") return;
      // a restored draft keeps its place as typed (see visit-draft.js)
      if (!(event.detail && event.detail.restored)) defaultLocation(form);
      showFieldsOfKind(form);
    });
    showFieldsOfKind(form);
  });
})();
