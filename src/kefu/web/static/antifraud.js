/* Anti-fraud console pages: the registry form shows the fields that fit the chosen kind
   and status, and destructive buttons ask once. The pages work without it. */
(function () {
  "use strict";

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });

  var form = document.getElementById("entry-form");
  if (!form) {
    return;
  }
  var kindInput = document.getElementById("f-kind");
  var statusInput = document.getElementById("f-status");
  var role = document.getElementById("f-role");

  function kind() {
    return kindInput.getAttribute("data-kind") || kindInput.value;
  }

  function showRoles() {
    var chosen = kind();
    var keep = null;
    role.querySelectorAll("optgroup").forEach(function (group) {
      var fits = group.getAttribute("data-kind") === chosen;
      group.hidden = !fits;
      group.disabled = !fits;
      if (fits) {
        keep = group;
      }
    });
    if (keep && (!role.selectedOptions.length || role.selectedOptions[0].parentNode !== keep)) {
      role.value = "";
      keep.querySelector("option").selected = true;
    }
    // an e-mail entry's role follows its value ("@domain" or an address), and a scam's
    // role means nothing: the field shows only where the admin chooses
    var field = role.closest("[data-role-field]");
    field.hidden = statusInput.value !== "official";
    role.disabled = chosen === "email";
    document.getElementById("role-help").hidden = chosen !== "email";
  }

  function showFieldsets() {
    var chosen = kind();
    var status = statusInput.value;
    form.querySelectorAll("fieldset[data-show-status]").forEach(function (set) {
      var wantKind = set.getAttribute("data-show-kind");
      set.hidden = set.getAttribute("data-show-status") !== status ||
        (wantKind !== null && wantKind !== chosen);
    });
  }

  function update() {
    showRoles();
    showFieldsets();
  }

  kindInput.addEventListener("change", update);
  statusInput.addEventListener("change", update);
  update();
})();
