// The knowledge-base editor's live preview: each body is rendered by the server's own
// renderer (the one the help center uses), a moment after typing stops.
(function () {
  "use strict";
  const form = document.querySelector("form.kb-editor");
  if (!form) return;
  const url = form.dataset.previewUrl;
  const csrf = form.dataset.csrf;
  form.querySelectorAll("textarea[data-preview]").forEach(function (area) {
    const target = document.getElementById(area.dataset.preview);
    let timer = null;
    let sent = 0;
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        const mine = ++sent;
        const body = new URLSearchParams({ body: area.value });
        fetch(url, {
          method: "POST",
          headers: { "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded" },
          body: body,
          credentials: "same-origin",
        })
          .then(function (response) { return response.ok ? response.text() : null; })
          .then(function (html) {
            if (html !== null && mine === sent) target.innerHTML = html; // sanitised by the server
          })
          .catch(function () { /* the preview keeps its last text */ });
      }, 300);
    });
  });
})();
