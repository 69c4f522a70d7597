// The visit form: show the fields the chosen kind asks for, and default the place.
// Runs in the page with no server round trip, so the form also works offline.
(function () {
  "use strict";

  function showFieldsOfKind(form) {
    var kind = form.elements.kind.value;
    form.querySelectorAll("fieldset[data-kinds]").forEach(function (group) {
      var shown = group.dataset.kinds.split(" ").indexOf(kind) >= 0;
      group.hidden = !shown;
      // a hidden group is not sent: the server would drop it anyway
      group.disabled = !shown;
    });
  }

  function defaultLocation(form) {
    var option = form.elements.kind.selectedOptions[0];
    var location = form.elements.location;
    if (option && option.dataset.location && location && !location.hasAttribute("data-touched")) {
      location.value = option.dataset.location;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("visit-form");
    if (!form) return;
    form.elements.kind.addEventListener("change", function (event) {
      // a restored draft keeps its place as typed (see visit-draft.js)
      if (!(event.detail && event.detail.restored)) defaultLocation(form);
      showFieldsOfKind(form);
    });
    if (form.elements.location) {
      form.elements.location.addEventListener("change", function () {
        form.elements.location.setAttribute("data-touched", "");
      });
    }
    showFieldsOfKind(form);
  });
})();
