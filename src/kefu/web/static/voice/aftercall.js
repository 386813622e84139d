// The after-call page: choosing another outcome puts its draft in the summary, unless
// the agent has already edited the text (then their words stay).
(function () {
  "use strict";
  var form = document.getElementById("ac-form");
  if (!form) { return; }
  var text = document.getElementById("ac-summary");
  // the text the page came with, not the field's text when this script runs: words typed
  // before it stay the agent's, and an outcome chosen before it gets its draft
  var shown = text.defaultValue;
  function follow(radio) {
    if (text.value === shown) {
      text.value = radio.dataset.draft;
      shown = text.value;
    }
  }
  form.querySelectorAll('input[name="outcome"]').forEach(function (radio) {
    radio.addEventListener("change", function () { follow(radio); });
    if (radio.checked && !radio.defaultChecked) { follow(radio); }
  });
})();
