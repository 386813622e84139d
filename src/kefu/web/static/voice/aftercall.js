// The after-call page: choosing another outcome puts its draft in the summary, unless
// the agent has already edited the text (then their words stay).
(function () {
  "use strict";
  var form = document.getElementById("ac-form");
  if (!form) { return; }
  var text = document.getElementById("ac-summary");
  var shown = text.value;
  form.querySelectorAll('input[name="outcome"]').forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (text.value === shown) {
        text.value = radio.dataset.draft;
        shown = text.value;
      }
    });
  });
})();
