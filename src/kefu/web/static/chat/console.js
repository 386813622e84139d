/* Kefu agent console: keeps the inbox, the live chat and the supervisor's view live over
   /ws/console. Plain JavaScript, no framework; the pages work without it (forms post and
   redirect), this only adds the live parts. */
(function () {
  "use strict";

  var chatEl = document.getElementById("chat");
  var panel = document.getElementById("inbox-panel") || document.getElementById("queues-panel");
  var note = document.getElementById("live-note");
  var texts = {};
  var textsEl = document.getElementById("chat-texts");
  if (textsEl) { texts = JSON.parse(textsEl.textContent); }

  var socket = null;
  var retry = 0;
  var pending = {};          // client_msg_id -> {text, internal, el}
  var lastSeq = chatEl ? parseInt(chatEl.dataset.lastSeq, 10) || 0 : 0;
  var conversationId = chatEl ? parseInt(chatEl.dataset.conversationId, 10) : null;

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  /* --- panels (inbox, supervisor view) re-fetched when the queue changes --- */
  var refreshTimer = null;
  /* a press or a form being sent inside the panel: replacing the panel then would swallow
     the click (an offer accepted between mouse down and up) or the submission */
  var pressedUntil = 0;
  if (panel) {
    panel.addEventListener("pointerdown", function () { pressedUntil = Date.now() + 1000; }, true);
    panel.addEventListener("submit", function () { pressedUntil = Date.now() + 15000; }, true);
  }
  /* a choice made in the panel and not yet sent (a status picked, its button not yet
     pressed): replacing the panel would put back the old value, and the button then sends
     that one */
  function changedControl(el) {
    if (el.tagName === "SELECT") {
      return Array.prototype.some.call(el.options, function (option, i) {
        var chosenByPage = option.defaultSelected || (i === 0 && !el.querySelector("option[selected]"));
        return option.selected !== chosenByPage;
      });
    }
    if (el.type === "checkbox" || el.type === "radio") { return el.checked !== el.defaultChecked; }
    return el.type !== "hidden" && el.value !== el.defaultValue;
  }
  function panelBusy() {
    if (!panel) { return true; }
    if (Date.now() < pressedUntil) { return true; }
    var active = document.activeElement;
    return !!panel.querySelector("details[open]") ||
      Array.prototype.some.call(panel.querySelectorAll("select, input, textarea"), changedControl) ||
      (active && panel.contains(active) && active.tagName !== "BODY" && active.tagName !== "BUTTON");
  }
  function refreshPanel() {
    if (!panel) { return; }
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      if (panelBusy()) { refreshPanel(); return; }
      fetch(panel.dataset.panelUrl, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) { panel.innerHTML = html; tickOffers(); } });
    }, 300);
  }
  /* the rest of the queue moving: at most one refresh every few seconds */
  var lastSoon = 0;
  function refreshSoon() {
    var wait = Math.max(0, lastSoon + 5000 - Date.now());
    lastSoon = Date.now() + wait;
    setTimeout(refreshPanel, wait);
  }
  function tickOffers() {
    var nodes = document.querySelectorAll(".countdown[data-expires]");
    Array.prototype.forEach.call(nodes, function (el) {
      var expires = Date.parse(el.dataset.expires);
      if (isNaN(expires)) { return; }
      var left = Math.max(0, Math.round((expires - Date.now()) / 1000));
      el.textContent = el.textContent.replace(/\d+/, String(left));
    });
  }
  if (panel) { setInterval(tickOffers, 1000); setInterval(refreshPanel, 30000); }

  /* --- the live chat --- */
  var list = document.getElementById("messages");
  var typingEl = document.getElementById("typing");
  var typingTimer = null;
  if (list) { list.scrollTop = list.scrollHeight; }  /* the chat opens at its newest message */

  /* times in the service's time zone, as the server renders them */
  function clock(at) {
    try {
      return at.toLocaleTimeString("en-GB", { timeZone: chatEl.dataset.tz, hour: "2-digit", minute: "2-digit", hour12: false });
    } catch (e) {
      return at.toTimeString().slice(0, 5);
    }
  }

  function rendered(seq) {
    return list && list.querySelector('li[data-seq="' + seq + '"]');
  }

  function renderMessage(m) {
    if (!list || rendered(m.seq)) { return; }
    if (m.client_msg_id && pending[m.client_msg_id]) {
      var mine = pending[m.client_msg_id].el;
      delete pending[m.client_msg_id];
      if (mine) { mine.remove(); }
    }
    var li = document.createElement("li");
    li.className = "msg from-" + m.sender + (m.internal ? " internal" : "");
    li.dataset.seq = m.seq;
    var meta = document.createElement("div");
    meta.className = "meta";
    if (m.internal) {
      var badge = document.createElement("span");
      badge.className = "badge note";
      badge.textContent = texts.note || "";
      meta.appendChild(badge);
    }
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = m.sender === "agent" ? (m.data && m.data.agent_name) || "" : texts[m.sender] || m.sender;
    meta.appendChild(who);
    var time = document.createElement("time");
    var at = m.created_at ? new Date(m.created_at) : new Date();
    time.dateTime = at.toISOString();
    time.textContent = clock(at);
    meta.appendChild(time);
    li.appendChild(meta);
    var att = m.data && m.data.attachment;
    if (att) {
      var link = document.createElement("a");
      link.className = "attachment";
      link.href = "/console/chats/" + conversationId + "/attachments/" + encodeURIComponent(att.id);
      link.target = "_blank";
      link.rel = "noopener";
      if (att.content_type.indexOf("image/") === 0) {
        var img = document.createElement("img");
        img.src = link.href;
        img.alt = (texts.screenshot || "") + att.filename;
        link.appendChild(img);
      } else {
        link.textContent = att.filename;
      }
      li.appendChild(link);
    } else {
      var p = document.createElement("p");
      p.className = "text";
      p.textContent = m.text;
      li.appendChild(p);
    }
    var after = null;
    Array.prototype.forEach.call(list.querySelectorAll("li[data-seq]"), function (el) {
      if (after === null && parseInt(el.dataset.seq, 10) > m.seq) { after = el; }
    });
    list.insertBefore(li, after);
    lastSeq = Math.max(lastSeq, m.seq);
    li.scrollIntoView({ block: "end" });
    if (typingEl) { typingEl.hidden = true; }
  }

  function showPending(id, text, internal) {
    var li = document.createElement("li");
    li.className = "msg from-agent pending" + (internal ? " internal" : "");
    var p = document.createElement("p");
    p.className = "text";
    p.textContent = text;
    li.appendChild(p);
    list.appendChild(li);
    li.scrollIntoView({ block: "end" });
    pending[id] = { text: text, internal: internal, el: li };
  }

  function composerError(message) {
    var el = document.getElementById("composer-error");
    if (!el) { return; }
    el.textContent = message || "";
    el.hidden = !message;
    /* a refusal says what to do (a part to fill in, by name): the hint beside it said the
       same again */
    var hint = document.getElementById("composer-hint");
    if (hint && message) { hint.hidden = true; }
  }

  /* a part of a canned reply the chat could not fill (no case yet, say) is marked in the
     text; it is selected, so what the agent types replaces it, and named below */
  function markPart(area, part, from) {
    var hint = document.getElementById("composer-hint");
    var at = part ? area.value.indexOf(part, from || 0) : -1;
    if (at < 0 && part) { at = area.value.indexOf(part); }
    area.focus();
    if (at >= 0) { area.setSelectionRange(at, at + part.length); }
    if (hint) {
      hint.textContent = at >= 0 ? (texts.to_fill || "").replace("{part}", part) : "";
      hint.hidden = at < 0;
    }
  }

  /* the chat was closed or passed on (perhaps from another tab): only notes from now on */
  function holdEnded() {
    var internal = document.getElementById("internal");
    if (internal) { internal.checked = true; internal.disabled = true; }
    var canned = document.getElementById("canned");
    if (canned) { canned.hidden = true; }
  }

  function setupComposer() {
    var form = document.getElementById("composer");
    if (!form) { return; }
    var area = document.getElementById("reply");
    var internal = document.getElementById("internal");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = area.value.trim();
      if (!text) { return; }
      var id = newId();
      showPending(id, text, internal.checked);
      send({ type: "message", conversation_id: conversationId, text: text, internal: internal.checked, client_msg_id: id });
      area.value = "";
      composerError("");
      markPart(area, null);
    });
    area.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    area.addEventListener("input", function () {
      if (!internal.checked) { send({ type: "typing", conversation_id: conversationId }); }
    });
    document.getElementById("send").disabled = false;
  }

  function setupCanned() {
    var box = document.getElementById("canned");
    var input = document.getElementById("canned-q");
    var results = document.getElementById("canned-results");
    if (!box || !input) { return; }
    var timer = null;
    function load() {
      fetch("/console/chats/" + conversationId + "/canned?q=" + encodeURIComponent(input.value), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (found) {
          results.innerHTML = "";
          if (!found.length) {
            var none = document.createElement("li");
            none.textContent = texts.none || "";
            results.appendChild(none);
          }
          found.forEach(function (c) {
            var li = document.createElement("li");
            var title = document.createElement("strong");
            title.textContent = c.title;
            var body = document.createElement("p");
            body.textContent = c.text.length > 160 ? c.text.slice(0, 160) + "…" : c.text;
            var button = document.createElement("button");
            button.type = "button";
            button.className = "secondary";
            button.textContent = texts.insert || "+";
            button.addEventListener("click", function () {
              var area = document.getElementById("reply");
              var start = area.selectionStart || area.value.length;
              area.value = area.value.slice(0, start) + c.text + area.value.slice(area.selectionEnd || start);
              area.focus();
              if (c.to_fill) { markPart(area, c.to_fill, start); }
              if (c.id) {  // a saved reply's uses are counted
                fetch("/console/canned/" + c.id + "/used", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": chatEl.dataset.csrf } });
              }
            });
            li.appendChild(title);
            li.appendChild(body);
            li.appendChild(button);
            results.appendChild(li);
          });
        });
    }
    box.addEventListener("toggle", function () { if (box.open) { load(); } });
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(load, 250); });
    if (box.open || input.value) { load(); }  /* opened or searched before this script ran */
  }

  function onFrame(frame) {
    if (frame.type === "message" && frame.conversation_id === conversationId) {
      renderMessage(frame);
    } else if (frame.type === "ack" && frame.conversation_id === conversationId) {
      /* the message itself arrives on the conversation's stream */
    } else if (frame.type === "error") {
      var refused = frame.client_msg_id && pending[frame.client_msg_id];
      if (refused && frame.code === "unfilled_placeholder") {
        /* not sent: the reply goes back to the composer with the part to fill selected */
        delete pending[frame.client_msg_id];
        refused.el.remove();
        var area = document.getElementById("reply");
        area.value = refused.text + (area.value ? "\n" + area.value : "");
        markPart(area, frame.part);
      } else if (refused) {
        pending[frame.client_msg_id].el.classList.add("failed");
        delete pending[frame.client_msg_id];
      }
      composerError(frame.message);
    } else if (frame.type === "typing" && frame.conversation_id === conversationId && typingEl) {
      typingEl.hidden = false;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typingEl.hidden = true; }, 4000);
    } else if (frame.type === "status" && frame.conversation_id === conversationId) {
      var badge = document.getElementById("chat-status");
      if (badge) {
        badge.className = "badge status-" + frame.status;
        badge.textContent = texts["status_" + frame.status] || frame.status;
      }
      if (frame.status !== "active") { holdEnded(); }
    } else if (frame.type === "work" && frame.scope === "queue") {
      refreshSoon();
    } else if (frame.type === "work" || frame.type === "presence") {
      refreshPanel();
      if (frame.type === "work" && frame.change === "offered" && note && texts.offer) {
        note.textContent = texts.offer;
      }
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    /* the refusals the socket words are shown on this page: in its language */
    var lang = encodeURIComponent(document.documentElement.lang || "");
    socket = new WebSocket(scheme + window.location.host + "/ws/console?lang=" + lang);
    socket.addEventListener("open", function () {
      retry = 0;
      window.dispatchEvent(new CustomEvent("kefu:console-open"));  /* the bell catches up */
      if (conversationId) {
        send({ type: "watch", conversation_id: conversationId, after_seq: lastSeq });
        Object.keys(pending).forEach(function (id) {
          var p = pending[id];
          send({ type: "message", conversation_id: conversationId, text: p.text, internal: p.internal, client_msg_id: id });
        });
      }
      if (note) { note.textContent = ""; }
      refreshPanel();
    });
    socket.addEventListener("message", function (event) {
      var frame = JSON.parse(event.data);
      onFrame(frame);
      /* the bell (notifications.js) listens here instead of opening a socket of its own */
      window.dispatchEvent(new CustomEvent("kefu:console-frame", { detail: frame }));
    });
    socket.addEventListener("close", function (event) {
      if (event.code === 4401) { window.location.href = "/console/login"; return; }
      if (note) { note.textContent = texts.reconnecting || ""; }
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * Math.pow(2, retry - 1));
    });
  }

  /* the written summary for the customer follows the outcome chosen and what was done
     meanwhile (fetched afresh when the agent turns to the form), unless they edited it */
  function setupSummary() {
    var box = document.getElementById("summary");
    if (!box || !conversationId) { return; }
    var form = box.form;
    // the text the page came with, not the field's text when this script runs: words typed
    // before it stay the agent's, and an outcome chosen before it gets its draft
    var drafted = box.defaultValue;
    var drafts = null;
    function chosen() {
      var radio = form.querySelector("input[name=outcome]:checked");
      return radio ? radio.value : "solved";
    }
    function show() {
      var text = drafts ? drafts[chosen()] : null;
      if (typeof text !== "string") { return; }
      if (box.value === drafted) { box.value = text; }
      drafted = text;
    }
    function refresh() {
      fetch("/console/chats/" + conversationId + "/summary", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (fresh) { if (fresh) { drafts = fresh; show(); } });
    }
    function chose(radio) {
      drafts = drafts || {};
      if (radio.dataset.summary && !drafts[radio.value]) { drafts[radio.value] = radio.dataset.summary; }
      show();
      refresh();
    }
    Array.prototype.forEach.call(form.querySelectorAll("input[name=outcome]"), function (radio) {
      radio.addEventListener("change", function () { chose(radio); });
      if (radio.checked && !radio.defaultChecked) { chose(radio); }
    });
    form.addEventListener("focusin", refresh);
  }

  setupComposer();
  setupCanned();
  setupSummary();
  connect();
  setInterval(function () { send({ type: "ping" }); }, 25000);
})();
