// The phone simulator: the server side acts as the carrier (signed webhooks, TwiML
// followed); this page is the handset: it plays what the hotline says, collects keys as a
// <Gather> does (enough digits, the finish key, or the timeout), and polls while queued.
(function () {
  "use strict";
  const root = document.querySelector(".sim");
  const $ = (id) => document.getElementById(id);
  const keys = Array.from(document.querySelectorAll(".sim-key"));
  const audio = new Audio();
  let state = null;
  let typed = "";
  let busy = false;
  let timer = null;
  let playlist = [];

  function setStatus() {
    const mode = state ? state.mode : "idle";
    let text = root.dataset["status" + mode.charAt(0).toUpperCase() + mode.slice(1)] || "";
    if (mode === "agent") text = text.replace("{agent}", state.agent || "");
    $("sim-status").textContent = text;
    const live = state && state.mode !== "ended";
    const listening = live && !busy && state.gather;
    keys.forEach((button) => { button.disabled = !listening; });
    $("sim-send").disabled = !listening;
    $("sim-silence").disabled = !listening;
    $("sim-hangup").disabled = !live || busy;
    $("sim-call").disabled = live || busy;
    $("sim-agent").hidden = !(live && state.mode === "agent");
  }

  function note(text, lang, mine) {
    const item = document.createElement("li");
    item.textContent = text;
    if (lang) item.lang = lang;
    if (mine) item.className = "sim-you";
    $("sim-transcript").appendChild(item);
    item.scrollIntoView({ block: "nearest" });
  }

  function clearTimer() {
    if (timer) { clearTimeout(timer); timer = null; }
  }

  function armTimer() {
    clearTimer();
    if (!state || state.mode === "ended") return;
    if (state.mode === "queue") {
      const wait = state.gather ? state.gather.timeout : 3;
      timer = setTimeout(() => send("poll"), wait * 1000);
    } else if (state.mode === "menu" && state.gather) {
      timer = setTimeout(() => send("silence"), state.gather.timeout * 1000);
    }
  }

  function playNext() {
    const next = playlist.shift();
    if (!next) { armTimer(); return; }
    audio.src = next;
    audio.play().catch(() => playNext());
  }
  audio.addEventListener("ended", playNext);
  audio.addEventListener("error", playNext);

  function show(view) {
    state = view.state;
    typed = "";
    $("sim-typed").textContent = "";
    view.said.forEach((said) => { if (said.text) note(said.text, said.lang, false); });
    playlist = view.said.map((said) => said.audio).filter(Boolean);
    audio.pause();
    setStatus();
    playNext();
  }

  async function request(url, body) {
    busy = true;
    clearTimer();
    setStatus();
    $("sim-error").hidden = true;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const data = await response.json();
      if (!response.ok) throw new Error((data.error && data.error.message) || response.status);
      busy = false;
      show(data);
    } catch (error) {
      busy = false;
      $("sim-error").textContent = root.dataset.error + error.message;
      $("sim-error").hidden = false;
      setStatus();
    }
  }

  function send(event, value) {
    if (!state || busy) return;
    // what the caller typed, codes and numbers hidden as they would be on a real phone log
    if (event === "keys") note(value.length > 4 ? "•".repeat(value.length) : value, null, true);
    return request("/voice/simulator/steps", { state: state, event: event, keys: value || null });
  }

  function press(key) {
    if (!state || !state.gather || busy) return;
    const gather = state.gather;
    if (gather.finish && key === gather.finish) {
      if (typed) send("keys", typed); else send("silence");
      return;
    }
    typed += key;
    $("sim-typed").textContent = typed;
    clearTimer();
    if (typed.length >= gather.digits) send("keys", typed);
    else timer = setTimeout(() => send("keys", typed), gather.timeout * 1000);
  }

  $("sim-dial").addEventListener("submit", (event) => {
    event.preventDefault();
    $("sim-transcript").textContent = "";
    request("/voice/simulator/calls", { caller: $("sim-caller").value.trim() });
  });
  $("sim-hangup").addEventListener("click", () => { audio.pause(); playlist = []; send("hangup"); });
  $("sim-send").addEventListener("click", () => { if (typed) send("keys", typed); });
  $("sim-silence").addEventListener("click", () => send(state && state.mode === "queue" ? "poll" : "silence"));
  $("sim-agent-done").addEventListener("click", () => send("agent_done"));
  $("sim-agent-missed").addEventListener("click", () => send("agent_missed"));
  keys.forEach((button) => button.addEventListener("click", () => press(button.dataset.key)));
  document.addEventListener("keydown", (event) => {
    if (event.target instanceof HTMLInputElement) return;
    if (/^[0-9*#]$/.test(event.key)) press(event.key);
  });
  setStatus();
})();
