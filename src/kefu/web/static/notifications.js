/* Kefu console notifications, on every console page: the unread count in the navigation
   and the tab title, a panel with read/unread, live over /ws/console?scope=notifications
   (or, on the live-chat pages, over the page's own console socket).
   An optional sound (off until the agent turns it on) and a desktop notification, asked
   for once. Plain JavaScript; without it the bell is a link to /console/notifications. */
(function () {
  "use strict";

  var root = document.getElementById("notif");
  if (!root) { return; }
  var toggle = document.getElementById("notif-toggle");
  var panel = document.getElementById("notif-panel");
  var list = document.getElementById("notif-list");
  var empty = document.getElementById("notif-empty");
  var countEl = document.getElementById("notif-count");
  var sound = document.getElementById("notif-sound");
  var desktop = document.getElementById("notif-desktop");
  var texts = JSON.parse(document.getElementById("notif-texts").textContent);
  var csrf = root.dataset.csrf;
  var baseTitle = document.title;
  var items = [];
  var store = window.localStorage;

  function remember(key, value) {
    try { store.setItem("kefu.notif." + key, value); } catch (e) { /* private mode */ }
  }
  function recall(key) {
    try { return store.getItem("kefu.notif." + key); } catch (e) { return null; }
  }

  function showCount(unread) {
    if (unread > 0) {
      countEl.textContent = unread > 99 ? "99+" : String(unread);
      countEl.hidden = false;
      document.title = "(" + unread + ") " + baseTitle;
    } else {
      countEl.hidden = true;
      document.title = baseTitle;
    }
    root.dataset.unread = String(unread);
  }

  function render() {
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.className = "notif-item " + (item.read ? "is-read" : "is-unread");
      li.dataset.id = String(item.id);
      var meta = document.createElement("p");
      meta.className = "notif-meta";
      meta.textContent = (texts.kinds[item.kind] || "") + " · " + (item.read ? texts.read : texts.unread);
      var body = document.createElement(item.link ? "a" : "p");
      body.className = "notif-body";
      body.textContent = item.body;
      if (item.link) {
        body.href = item.link;
        body.addEventListener("click", function (event) {
          event.preventDefault();
          markRead([item.id]).then(function () { window.location.href = item.link; });
        });
      }
      li.appendChild(meta);
      li.appendChild(body);
      list.appendChild(li);
    });
    empty.hidden = items.length > 0;
  }

  function load() {
    return fetch("/api/v1/notifications", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (page) {
        if (!page) { return; }
        items = page.items;
        render();
        showCount(page.unread);
      });
  }

  function markRead(ids) {
    var body = ids ? { ids: ids } : { all: true };
    return fetch("/api/v1/notifications/read", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) {
        items.forEach(function (item) { if (!ids || ids.indexOf(item.id) >= 0) { item.read = true; } });
        render();
        if (answer) { showCount(answer.unread); }
      });
  }

  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      var ctx = new Context();
      var tone = ctx.createOscillator();
      var gain = ctx.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.08;
      tone.connect(gain);
      gain.connect(ctx.destination);
      tone.start();
      tone.stop(ctx.currentTime + 0.18);
    } catch (e) { /* no audio device */ }
  }

  function arrived(item, unread) {
    items = [item].concat(items.filter(function (other) { return other.id !== item.id; })).slice(0, 30);
    render();
    showCount(unread);
    if (sound.checked) { beep(); }
    if (document.hidden && "Notification" in window && Notification.permission === "granted") {
      var shown = new Notification(texts.kinds[item.kind] || baseTitle, { body: item.body, tag: "kefu-" + item.id });
      shown.onclick = function () { window.focus(); if (item.link) { window.location.href = item.link; } };
    }
  }

  /* --- the panel --- */
  function open(yes) {
    panel.hidden = !yes;
    toggle.setAttribute("aria-expanded", yes ? "true" : "false");
  }
  toggle.addEventListener("click", function (event) {
    event.preventDefault();
    open(panel.hidden);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !panel.hidden) { open(false); toggle.focus(); }
  });
  document.addEventListener("click", function (event) {
    if (!panel.hidden && !root.contains(event.target)) { open(false); }
  });
  document.getElementById("notif-all-read").addEventListener("click", function () { markRead(null); });

  sound.checked = recall("sound") === "on";
  sound.addEventListener("change", function () { remember("sound", sound.checked ? "on" : "off"); });
  /* desktop notifications: offered once; whatever the answer, never asked again */
  if ("Notification" in window && Notification.permission === "default" && !recall("asked")) {
    desktop.hidden = false;
    desktop.addEventListener("click", function () {
      remember("asked", "yes");
      desktop.hidden = true;
      Notification.requestPermission();
    });
  }

  /* --- live --- */
  function onFrame(frame) {
    if (frame.type === "notification") { arrived(frame.notification, frame.unread); }
    else if (frame.type === "notifications_read") {
      items.forEach(function (item) { if (!frame.ids || frame.ids.indexOf(item.id) >= 0) { item.read = true; } });
      render();
      showCount(frame.unread);
    }
  }

  /* The live-chat pages hold a full /ws/console socket of their own, which carries the
     notification frames too: they pass each frame on (kefu:console-frame) and say when
     it (re)connects (kefu:console-open), so those pages open one socket, not two. */
  if (document.querySelector('meta[name="kefu-console-socket"]')) {
    window.addEventListener("kefu:console-open", function () { load(); });
    window.addEventListener("kefu:console-frame", function (event) { onFrame(event.detail); });
    return;
  }

  var retry = 0;
  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/console?scope=notifications");
    var ping = null;
    socket.addEventListener("open", function () {
      retry = 0;
      load();  /* whatever came while the socket was down */
      ping = setInterval(function () { socket.send(JSON.stringify({ type: "ping" })); }, 25000);
    });
    socket.addEventListener("message", function (event) { onFrame(JSON.parse(event.data)); });
    socket.addEventListener("close", function (event) {
      clearInterval(ping);
      if (event.code === 4401) { return; }
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * Math.pow(2, retry - 1));
    });
  }
  connect();
})();
