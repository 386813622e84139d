// Fills the navigation's case count (my open cases) on every console page.
(function () {
  "use strict";
  var badge = document.querySelector("[data-case-count]");
  if (!badge || !window.fetch) return;
  fetch("/console/cases/counts", { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (counts) {
      if (!counts) return;
      var value = counts[badge.getAttribute("data-case-count")];
      badge.textContent = value >= 1000 ? "999+" : String(value);
      badge.setAttribute("aria-label", badge.getAttribute("data-label").replace("{count}", badge.textContent));
    })
    .catch(function () {});
})();
