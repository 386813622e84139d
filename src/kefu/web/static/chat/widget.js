/* Kefu chat widget: one script tag on any page.

     <script src="https://kefu.example.com/static/chat/widget.js" defer
             data-kefu-lang="zh-CN"            (optional: zh-CN or en; default: the page's)
             data-kefu-app-token="v1.…"        (optional: the wallet app's signed identity)
             data-kefu-open="true"></script>   (optional: open at once)

   The host page opens and closes it with KefuChat.open() / KefuChat.close(), or marks its
   own "contact us" links and buttons with data-open-chat (docs/chat.md).

   The widget lives in a shadow root so the host page's styles and ours never mix. The
   conversation id and its owner key (given once when the chat starts; the id alone opens
   nothing) are kept in localStorage: a reload continues the same chat. The key goes in the
   X-Kefu-Conversation-Key header and the websocket's hello frame, never in a URL. After a
   dropped connection the widget resumes after the last message it has (seq), resending
   anything not yet acknowledged with the same client_msg_id — nothing lost, nothing twice. */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__kefuWidget) { return; }
  window.__kefuWidget = true;
  var base = new URL(script.src, window.location.href).origin;
  var storeKey = "kefu.chat." + base;
  var lang = script.dataset.kefuLang || document.documentElement.lang || navigator.language || "zh-CN";
  lang = /^en/i.test(lang) ? "en" : "zh-CN";
  var appToken = script.dataset.kefuAppToken || "";

  var T = {};
  var state = { id: null, key: null, lastSeq: 0, status: "bot", pending: {}, socket: null, retry: 0, lastTyping: 0 };
  var ui = {};
  var lastBot = null;          // the last assistant message: its quick replies and input kind

  /* The host page's API (docs/chat.md): KefuChat.open() and KefuChat.close() exist as soon
     as this script has run; while the widget still loads its texts the last call is kept
     and decides whether it opens when ready. */
  var ready = false;
  var wanted = null;
  function whenReady(action) {
    return function () { if (ready) { action(); } else { wanted = action; } };
  }
  window.KefuChat = { open: whenReady(open), close: whenReady(close) };

  function load() {
    try { return JSON.parse(window.localStorage.getItem(storeKey) || "{}"); } catch (e) { return {}; }
  }
  function save() {
    try { window.localStorage.setItem(storeKey, JSON.stringify({ id: state.id, key: state.key, lang: lang })); } catch (e) { /* private mode */ }
  }
  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }
  /* the header that proves the chat is this browser's (docs/security.md) */
  function owner() {
    return { "X-Kefu-Conversation-Key": state.key || "" };
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function t(key, params) {
    var text = T[key] || key;
    Object.keys(params || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(params[k])); });
    return text;
  }

  function clip() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "22");
    svg.setAttribute("height", "22");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l9.2-9.2a3.7 3.7 0 0 1 5.2 5.2l-9.2 9.2a1.8 1.8 0 0 1-2.6-2.6l8.5-8.5");
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2");
    path.setAttribute("stroke-linecap", "round");
    svg.appendChild(path);
    return svg;
  }

  /* --- building the widget --- */
  function build() {
    var host = el("div", { id: "kefu-chat-widget" });
    document.body.appendChild(host);
    var root = host.attachShadow({ mode: "open" });
    ui.root = root;
    var css = el("link", { rel: "stylesheet", href: base + "/static/chat/widget.css" });
    root.appendChild(css);

    ui.launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "kefu-panel" }, t("open"));
    ui.panel = el("section", { id: "kefu-panel", class: "panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "kefu-title", hidden: "" });
    var head = el("header", { class: "head" });
    ui.title = el("h2", { id: "kefu-title" }, t("title"));
    ui.close = el("button", { type: "button", class: "icon", "aria-label": t("close") }, "×");
    head.appendChild(ui.title);
    head.appendChild(ui.close);
    ui.banner = el("p", { class: "banner", role: "status", "aria-live": "polite", hidden: "" });
    ui.conn = el("p", { class: "conn", role: "status", "aria-live": "polite", hidden: "" });
    ui.list = el("ol", { class: "messages", role: "log", "aria-live": "polite", "aria-label": t("messages") });
    ui.typing = el("p", { class: "typing", hidden: "" }, t("typing"));
    ui.quick = el("div", { class: "quick", role: "group", "aria-label": t("choices") });

    ui.codeForm = el("form", { class: "code", hidden: "", autocomplete: "off" });
    var codeLabel = el("label", { for: "kefu-code" }, t("code_label"));
    ui.code = el("input", { id: "kefu-code", name: "code", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: "6", required: "", "aria-describedby": "kefu-code-hint" });
    var codeHint = el("p", { id: "kefu-code-hint", class: "hint" }, t("code_hint"));
    var codeButton = el("button", { type: "submit" }, t("code_submit"));
    ui.codeForm.appendChild(codeLabel);
    var codeRow = el("div", { class: "row" });
    codeRow.appendChild(ui.code);
    codeRow.appendChild(codeButton);
    ui.codeForm.appendChild(codeRow);
    ui.codeForm.appendChild(codeHint);

    ui.form = el("form", { class: "compose", autocomplete: "off" });
    var label = el("label", { for: "kefu-input", class: "sr" }, t("input_label"));
    ui.input = el("textarea", { id: "kefu-input", rows: "1", maxlength: "2000", placeholder: t("placeholder") });
    ui.fileLabel = el("label", { class: "attach", for: "kefu-file", title: t("upload") });
    ui.fileLabel.appendChild(el("span", { class: "sr" }, t("upload")));
    ui.fileLabel.appendChild(clip());
    ui.file = el("input", { id: "kefu-file", type: "file", accept: "image/png,image/jpeg,image/gif,image/webp", class: "sr" });
    ui.send = el("button", { type: "submit" }, t("send"));
    ui.form.appendChild(label);
    ui.form.appendChild(ui.file);
    ui.form.appendChild(ui.fileLabel);
    ui.form.appendChild(ui.input);
    ui.form.appendChild(ui.send);
    ui.error = el("p", { class: "error", role: "alert", hidden: "" });

    ui.survey = el("form", { class: "survey", hidden: "" });
    ui.restart = el("button", { type: "button", class: "secondary restart", hidden: "" }, t("new_chat"));
    ui.end = el("button", { type: "button", class: "link end" }, t("end_chat"));

    [head, ui.banner, ui.conn, ui.list, ui.typing, ui.quick, ui.codeForm, ui.survey, ui.restart, ui.form, ui.error, ui.end].forEach(function (n) { ui.panel.appendChild(n); });
    root.appendChild(ui.launcher);
    root.appendChild(ui.panel);
    wire();
  }

  function wire() {
    ui.launcher.addEventListener("click", function () { ui.panel.hidden ? open() : close(); });
    ui.close.addEventListener("click", close);
    ui.panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { close(); return; }
      trapTab(e);
    });
    ui.form.addEventListener("submit", function (e) {
      e.preventDefault();
      var text = ui.input.value.trim();
      if (text) { say(text); ui.input.value = ""; }
    });
    ui.input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); ui.form.requestSubmit(); }
    });
    ui.input.addEventListener("input", function () {
      var now = Date.now();
      if ((state.status === "queued" || state.status === "active") && now - state.lastTyping > 2000) {
        state.lastTyping = now;
        send({ type: "typing" });
      }
    });
    ui.codeForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var code = ui.code.value.replace(/\D/g, "");
      if (code.length !== 6) { showError(t("code_hint")); return; }
      ui.code.value = "";
      say(code, t("code_sent"));
    });
    ui.file.addEventListener("change", upload);
    ui.restart.addEventListener("click", restart);
    ui.end.addEventListener("click", function () {
      if (window.confirm(t("end_confirm"))) { send({ type: "leave" }); }
    });
  }

  /* the list scrolls, not the host page: a chat resumed while the panel was closed opens
     at its newest message */
  function showNewest() {
    ui.list.scrollTop = ui.list.scrollHeight;
  }

  function open() {
    ui.panel.hidden = false;
    ui.launcher.setAttribute("aria-expanded", "true");
    showNewest();
    start().then(function () {
      showNewest();
      var first = [ui.code, ui.input].filter(function (n) { return n.offsetParent !== null; })[0];
      (first || ui.close).focus();
    });
  }

  /* While the panel is open, Tab and Shift+Tab go round its own controls (the chips, the
     survey stars, the close button) and never wander off into the host page. */
  function focusable() {
    return Array.prototype.filter.call(
      ui.panel.querySelectorAll("button, input, textarea, select, a[href], [tabindex]"),
      function (n) { return !n.disabled && n.tabIndex >= 0 && n.offsetParent !== null; }
    );
  }
  function trapTab(e) {
    if (e.key !== "Tab") { return; }
    var items = focusable();
    if (!items.length) { return; }
    var here = items.indexOf(ui.root.activeElement);
    var next = e.shiftKey ? (here <= 0 ? items.length - 1 : here - 1) : (here === items.length - 1 || here < 0 ? 0 : here + 1);
    e.preventDefault();
    items[next].focus();
  }
  function close() {
    ui.panel.hidden = true;
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.launcher.focus();
  }
  function showError(message) {
    ui.error.textContent = message || "";
    ui.error.hidden = !message;
  }

  /* --- the conversation --- */
  function start() {
    if (state.id) { if (!state.socket) { connect(); } return Promise.resolve(); }
    return fetch(base + "/api/v1/chat/conversations?lang=" + lang, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ lang: lang, channel: appToken ? "app" : "web", app_token: appToken || null })
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { throw new Error((body.error && body.error.message) || t("error")); }
        return body;
      });
    }).then(function (body) {
      state.id = body.conversation_id;
      state.key = body.conversation_key;
      state.lastSeq = 0;
      save();
      connect();
    }).catch(function (err) { showError(err.message); });
  }

  function restart() {
    clearTimeout(state.surveyTimer);
    state.id = null;
    state.key = null;
    state.lastSeq = 0;
    state.pending = {};
    if (state.socket) { state.socket.onclose = null; state.socket.close(); state.socket = null; }
    ui.list.innerHTML = "";
    ui.survey.hidden = true;
    ui.restart.hidden = true;
    ui.form.hidden = false;
    ui.end.hidden = false;
    save();
    start();
  }

  function send(frame) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) {
      state.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function say(text, shown) {
    var id = newId();
    var bubble = bubbleFor({ sender: "customer", text: shown || text, pending: true });
    state.pending[id] = { text: text, el: bubble };
    ui.list.appendChild(bubble);
    showNewest();
    clearChoices();
    send({ type: "message", text: text, client_msg_id: id });
  }

  function upload() {
    var file = ui.file.files && ui.file.files[0];
    if (!file || !state.id) { return; }
    var body = new FormData();
    body.append("file", file);
    body.append("client_msg_id", newId());
    showError("");
    ui.conn.textContent = t("uploading");
    ui.conn.hidden = false;
    fetch(base + "/api/v1/chat/conversations/" + encodeURIComponent(state.id) + "/attachments?lang=" + lang, { method: "POST", headers: owner(), body: body })
      .then(function (r) { return r.json().then(function (b) { if (!r.ok) { throw new Error((b.error && b.error.message) || t("error")); } }); })
      .catch(function (err) { showError(err.message); })
      .then(function () { ui.conn.hidden = true; ui.file.value = ""; });
  }

  /* --- rendering --- */
  function labelFor(m) {
    if (m.sender !== "customer" || !lastBot || !lastBot.data) { return m.text; }
    var match = (lastBot.data.quick_replies || []).filter(function (q) { return q.value === m.text; })[0];
    return match ? match.label : m.text;
  }

  /* the customer's own clock: the time they sent or received it, as their phone shows it */
  function clock(at) {
    return at.toLocaleTimeString(lang === "en" ? "en-GB" : "zh-CN", { hour: "2-digit", minute: "2-digit", hour12: false });
  }

  function bubbleFor(m) {
    var li = el("li", { class: "msg from-" + m.sender + (m.pending ? " pending" : "") });
    if (m.seq) { li.dataset.seq = m.seq; }
    var meta = el("div", { class: "meta" });
    if (m.sender === "agent" || m.sender === "bot") {
      meta.appendChild(el("span", { class: "who" }, m.sender === "agent" ? (m.data && m.data.agent_name) || t("agent") : t("bot")));
    }
    var at = m.created_at ? new Date(m.created_at) : new Date();
    var time = el("time", { datetime: at.toISOString() }, clock(at));
    meta.appendChild(time);
    li.appendChild(meta);
    var att = m.data && m.data.attachment;
    if (att) {
      var img = el("img", { alt: t("screenshot") + " " + att.filename });
      li.appendChild(img);
      showImage(img, att.id);
    } else {
      li.appendChild(el("p", { class: "text" }, m.pending ? m.text : labelFor(m)));
    }
    return li;
  }

  /* a screenshot needs the owner key, which an <img src> cannot send: fetched with the
     header and shown from memory (Kefu's own pages allow blob: images in their CSP) */
  function showImage(img, attachmentId) {
    var url = base + "/api/v1/chat/conversations/" + encodeURIComponent(state.id) + "/attachments/" + encodeURIComponent(attachmentId);
    fetch(url, { headers: owner() })
      .then(function (r) { if (!r.ok) { throw new Error(t("error")); } return r.blob(); })
      .then(function (blob) { img.src = URL.createObjectURL(blob); })
      .catch(function () { img.classList.add("failed"); });
  }

  function clearChoices() {
    ui.quick.innerHTML = "";
    ui.codeForm.hidden = true;
  }

  function showChoices(m) {
    clearChoices();
    if (state.status !== "bot") { return; }
    var data = m.data || {};
    (data.quick_replies || []).forEach(function (q) {
      var b = el("button", { type: "button", class: "choice" }, q.label);
      b.addEventListener("click", function () { say(q.value, q.label); });
      ui.quick.appendChild(b);
    });
    if (data.input === "code") {
      ui.codeForm.hidden = false;
      if (!ui.panel.hidden) { ui.code.focus(); }
    }
  }

  function render(m) {
    if (m.seq <= state.lastSeq) { return; }
    if (m.client_msg_id && state.pending[m.client_msg_id]) {
      state.pending[m.client_msg_id].el.remove();
      delete state.pending[m.client_msg_id];
    }
    var bubble = bubbleFor(m);
    ui.list.appendChild(bubble);
    state.lastSeq = m.seq;
    if (m.sender === "bot") { lastBot = m; showChoices(m); }
    if (m.sender === "agent") { ui.typing.hidden = true; clearChoices(); }
    showNewest();
  }

  function showState(s) {
    state.status = s.status;
    var text = "";
    if (s.status === "queued") {
      /* sent by name to a colleague not online: no minutes can be promised, so none are */
      if (s.waiting_for) { text = t("queue_named", { name: s.waiting_for }); }
      else { text = s.position > 0 ? t("queue", { position: s.position, minutes: s.minutes }) : t("connecting"); }
      clearChoices();
    } else if (s.status === "active") {
      text = t("agent_serving", { name: s.agent_name || t("agent") });
      clearChoices();
    } else if (s.status === "closed") {
      text = t("ended");
      clearChoices();
      ui.form.hidden = true;
      ui.end.hidden = true;
      ui.restart.hidden = false;
      clearTimeout(state.surveyTimer);
      pollSurvey(state.id, 3);
    }
    if (s.status !== "closed") { ui.form.hidden = false; ui.end.hidden = false; ui.restart.hidden = true; }
    ui.banner.textContent = text;
    ui.banner.hidden = !text;
    ui.title.textContent = s.status === "active" && s.agent_name ? t("title_agent", { name: s.agent_name }) : t("title");
  }

  /* --- the satisfaction card: planned when the chat closes solved, due a little later
     (the channel's delay). The server says how long until it is due, so the widget asks
     again then (every 10 s at most); "not found" means no card is coming (the chat ended unsolved, the customer
     opted out), asked a few times in case the close is still being saved. --- */
  function pollSurvey(conversationId, tries) {
    if (tries <= 0 || state.id !== conversationId || !ui.survey.hidden) { return; }
    fetch(base + "/api/v1/surveys/conversation/" + encodeURIComponent(conversationId) + "?lang=" + lang, { headers: owner() })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (survey) {
        if (state.id !== conversationId) { return; }
        if (survey && survey.status === "sent") { showSurvey(survey); return; }
        if (survey && survey.status === "scheduled") {
          /* at the due time, or sooner if that is far off: a periodic send may offer it first */
          var wait = Math.min(survey.due_in_seconds, 10);
          state.surveyTimer = setTimeout(function () { pollSurvey(conversationId, tries); }, 1000 * wait + 500);
          return;
        }
        if (!survey) { again(); }
      })
      .catch(again);
    function again() {
      state.surveyTimer = setTimeout(function () { pollSurvey(conversationId, tries - 1); }, 2000);
    }
  }

  function showSurvey(survey) {
    var question = survey.questions && survey.questions.score;
    if (!question) { return; }
    ui.survey.innerHTML = "";
    ui.survey.hidden = false;
    var fieldset = el("fieldset");
    fieldset.appendChild(el("legend", {}, question.label || t("survey_question")));
    var row = el("div", { class: "stars" });
    question.choices.forEach(function (choice) {
      var b = el("button", { type: "button", class: "star", title: choice.label, "aria-label": choice.label }, String(choice.value));
      b.addEventListener("click", function () {
        fetch(base + "/api/v1/surveys/" + encodeURIComponent(survey.token) + "?lang=" + lang, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ score: choice.value })
        }).then(function (r) {
          ui.survey.innerHTML = "";
          ui.survey.appendChild(el("p", { role: "status" }, r.ok ? t("survey_thanks") : t("error")));
        });
      });
      row.appendChild(b);
    });
    fieldset.appendChild(row);
    ui.survey.appendChild(fieldset);
  }

  function onFrame(f) {
    if (f.type === "message") { render(f); }
    else if (f.type === "state") { showState(f); }
    else if (f.type === "typing") {
      ui.typing.hidden = false;
      clearTimeout(state.typingTimer);
      state.typingTimer = setTimeout(function () { ui.typing.hidden = true; }, 4000);
    } else if (f.type === "error") {
      if (f.client_msg_id && state.pending[f.client_msg_id]) {
        state.pending[f.client_msg_id].el.classList.add("failed");
        delete state.pending[f.client_msg_id];
      }
      showError(f.message);
    } else if (f.type === "ack") { showError(""); }
  }

  function connect() {
    var url = base.replace(/^http/, "ws") + "/ws/chat";
    var socket = new WebSocket(url);
    state.socket = socket;
    socket.onopen = function () {
      state.retry = 0;
      ui.conn.hidden = true;
      socket.send(JSON.stringify({ type: "hello", conversation_id: state.id, key: state.key, after_seq: state.lastSeq }));
      Object.keys(state.pending).forEach(function (id) {
        socket.send(JSON.stringify({ type: "message", text: state.pending[id].text, client_msg_id: id }));
      });
    };
    socket.onmessage = function (e) { onFrame(JSON.parse(e.data)); };
    socket.onclose = function (e) {
      state.socket = null;
      if (e.code === 4404) { restart(); return; }
      ui.conn.textContent = t("reconnecting");
      ui.conn.hidden = false;
      state.retry = Math.min(state.retry + 1, 6);
      setTimeout(connect, 400 * Math.pow(2, state.retry - 1));
    };
  }

  function init() {
    fetch(base + "/api/v1/chat/widget-texts?lang=" + lang)
      .then(function (r) { return r.json(); })
      .then(function (body) {
        T = body.texts || {};
        var saved = load();
        /* a chat saved without its key (before keys existed) cannot be continued */
        if (saved.id && saved.key) { state.id = saved.id; state.key = saved.key; }
        build();
        /* links on the host page marked data-open-chat open the chat instead */
        document.addEventListener("click", function (e) {
          var opener = e.target && e.target.closest && e.target.closest("[data-open-chat]");
          if (opener) { e.preventDefault(); open(); }
        });
        ready = true;
        setInterval(function () { send({ type: "ping" }); }, 25000);
        if (state.id) { connect(); }
        /* an early KefuChat call overrides data-kefu-open; the panel starts closed */
        if (wanted ? wanted === open : script.dataset.kefuOpen === "true") { open(); }
      });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
