/* Help center enhancements on top of pages that work without JavaScript:
   FAQ results as you type, "did this help?" votes, inline number/site verification
   (with a way to report what is not ours), and forms that send once. Talks only to
   Kefu's public APIs. */
(function () {
  "use strict";

  var lang = document.documentElement.lang || "zh-CN";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* The same excerpt as the server's help_view.excerpt: lead-in labels ("怎么做：")
     and list numbers dropped, cut to a length. */
  var LEAD = /^(?:[^：:。.\n]{1,14}[：:]|\d+[.、)]\s*)\s*/;
  function excerpt(body, length) {
    var lines = (body || "").split("\n");
    for (var i = 0; i < lines.length; i++) {
      var text = lines[i].trim().replace(LEAD, "").trim();
      if (!text) continue;
      text = text.charAt(0).toUpperCase() + text.slice(1);
      return text.length <= length ? text : text.slice(0, length - 1).trim() + "…";
    }
    return "";
  }

  /* --- FAQ search as you type --------------------------------------------------- */
  function setUpSearch(form) {
    var input = form.querySelector("input[name=q]");
    var results = document.getElementById(input.getAttribute("aria-controls"));
    var status = document.getElementById(input.getAttribute("aria-describedby"));
    var timer = null;
    var asked = 0;

    function show(articles, query) {
      results.replaceChildren();
      articles.forEach(function (article) {
        var item = el("li");
        var link = el("a");
        link.href = "/help/articles/" + encodeURIComponent(article.slug);
        link.appendChild(el("span", "article-title", article.title));
        link.appendChild(el("span", "article-summary", excerpt(article.body, 44)));
        item.appendChild(link);
        results.appendChild(item);
      });
      results.hidden = articles.length === 0;
      status.textContent = articles.length
        ? form.dataset.count.replace("{count}", String(articles.length))
        : form.dataset.none;
      if (!query) status.textContent = "";
    }

    function ask() {
      var query = input.value.trim();
      var mine = ++asked;
      if (!query) { show([], ""); return; }
      fetch("/api/v1/faq?lang=" + encodeURIComponent(lang) + "&q=" + encodeURIComponent(query), {
        headers: { Accept: "application/json" }
      })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (articles) { if (mine === asked) show(articles.slice(0, 8), query); })
        .catch(function () { /* the form still submits to the results page */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 180);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && !results.hidden) {
        var first = results.querySelector("a");
        if (first) { event.preventDefault(); first.focus(); }
      } else if (event.key === "Escape") {
        input.value = "";
        show([], "");
      }
    });
    results.addEventListener("keydown", function (event) {
      var links = Array.prototype.slice.call(results.querySelectorAll("a"));
      var at = links.indexOf(document.activeElement);
      if (event.key === "ArrowDown" && at < links.length - 1) { event.preventDefault(); links[at + 1].focus(); }
      if (event.key === "ArrowUp") { event.preventDefault(); (at > 0 ? links[at - 1] : input).focus(); }
      if (event.key === "Escape") { input.focus(); }
    });
  }

  /* --- "did this help?" ---------------------------------------------------------- */
  function setUpVote(box) {
    var buttons = box.querySelectorAll("button[data-helpful]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.disabled = false;
      button.addEventListener("click", function () {
        var helpful = button.dataset.helpful === "true";
        fetch("/api/v1/faq/" + encodeURIComponent(box.dataset.slug) + "/feedback", {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ helpful: helpful, lang: box.dataset.lang })
        }).then(function (r) {
          if (!r.ok) throw new Error(String(r.status));
          Array.prototype.forEach.call(buttons, function (b) { b.setAttribute("aria-pressed", String(b === button)); });
          box.querySelector("[data-vote-thanks]").hidden = false;
          box.querySelector("[data-vote-more]").hidden = helpful;
          box.querySelector("[data-vote-error]").hidden = true;
        }).catch(function () {
          box.querySelector("[data-vote-error]").hidden = false;
        });
      });
    });
  }

  /* --- is this number or site really yours? -------------------------------------- */
  function setUpVerify(form) {
    var output = form.querySelector("[data-verify-result]");
    form.addEventListener("submit", function (event) {
      var value = form.querySelector("input[name=value]").value.trim();
      if (!value) return;
      event.preventDefault();
      fetch("/api/v1/verify?lang=" + encodeURIComponent(lang) + "&value=" + encodeURIComponent(value), {
        headers: { Accept: "application/json" }
      }).then(function (r) {
        if (r.status === 404 || r.status >= 500) throw new Error("fallback");
        return r.json().then(function (body) { return { ok: r.ok, body: body }; });
      }).then(function (answer) {
        output.replaceChildren();
        if (!answer.ok) {
          var problem = el("p", "alert", answer.body.error ? answer.body.error.message : "");
          problem.setAttribute("role", "alert");
          output.appendChild(problem);
          return;
        }
        var result = answer.body;
        var box = el("div", "verdict verdict-" + result.verdict);
        box.appendChild(el("p", "verdict-title", form.getAttribute("data-verdict-" + result.verdict) || ""));
        box.appendChild(el("p", "verdict-value", result.value));
        box.appendChild(el("p", "", result.reason));
        box.appendChild(el("p", "verdict-advice", result.advice));
        if (result.verdict !== "official") {
          var report = el("a", "", form.dataset.reportLabel);
          report.href = "/help/report?value=" + encodeURIComponent(result.value);
          box.appendChild(el("p", "verdict-report")).appendChild(report);
        }
        output.appendChild(box);
      }).catch(function () {
        form.submit(); /* the server-rendered answer */
      });
    });
  }

  /* --- a scam report: too many screenshots are refused before they are uploaded ---- */
  function setUpReport(form) {
    var files = form.querySelector("input[type=file]");
    var most = parseInt(form.dataset.maxFiles, 10);
    files.addEventListener("change", function () {
      files.setCustomValidity(files.files.length > most ? form.dataset.tooMany : "");
      files.reportValidity();
    });
  }

  /* --- forms that must not be sent twice by a double click ------------------------ */
  function setUpOnce(form) {
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (b) {
        setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  }

  /* --- "chat with us" opens the live-chat widget (static/chat/widget.js) ----------- */
  function setUpChatLink(link) {
    link.addEventListener("click", function (event) {
      var host = document.getElementById("kefu-chat-widget");
      var launcher = host && host.shadowRoot && host.shadowRoot.querySelector("button.launcher");
      if (!launcher) return; /* no widget: the link leads to Contact us */
      event.preventDefault();
      if (launcher.getAttribute("aria-expanded") !== "true") launcher.click();
    });
  }

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  document.addEventListener("DOMContentLoaded", function () {
    each("form[data-search]", setUpSearch);
    each("[data-vote]", setUpVote);
    each("form[data-verify]", setUpVerify);
    each("form[data-report-form]", setUpReport);
    each("form[data-once]", setUpOnce);
    each("a[data-open-chat]", setUpChatLink);
  });
})();
