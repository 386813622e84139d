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

  /* What the hotline says, one prompt after another: the server's rendered audio, or the
     browser's own speech synthesis when there is none (no espeak-ng on the server) or it
     fails. The keypad timeout starts only once the last prompt has been heard. */
  const VOICE_LANGS = { "zh-CN": "zh-CN", en: "en-US" };

  function readingSeconds(said) {
    const text = said.text || "";
    const han = (text.match(/[\u3400-\u9fff]/g) || []).length;
    const words = text.replace(/[\u3400-\u9fff]/g, " ").split(/\s+/).filter(Boolean).length;
    return 1 + han * 0.22 + words * 0.4;
  }

  // Each hotline answer (and each key pressed over a prompt) starts a new turn; a prompt
  // that finishes after its turn is over has nothing more to start.
  let turn = 0;

  function speak(said, ownTurn) {
    const wait = readingSeconds(said) * 1000;
    const next = () => { if (ownTurn === turn) playNext(); };
    const synth = window.speechSynthesis;
    if (!synth || !window.SpeechSynthesisUtterance || !said.text) {
      setTimeout(next, wait);
      return;
    }
    const utterance = new SpeechSynthesisUtterance(said.text);
    utterance.lang = VOICE_LANGS[said.lang] || said.lang || "zh-CN";
    let done = false;
    const finish = (delay) => {
      if (done) return;
      done = true;
      clearTimeout(watchdog);
      setTimeout(next, delay);
    };
    // a browser without voices may never say it has finished: give it the reading time
    const watchdog = setTimeout(() => finish(0), 2 * wait + 2000);
    utterance.onend = () => finish(0);
    utterance.onerror = () => finish(wait);
    synth.speak(utterance);
  }

  function playNext() {
    const said = playlist.shift();
    if (!said) { root.dataset.playing = "false"; armTimer(); return; }
    root.dataset.playing = "true";
    const ownTurn = turn;
    if (!said.audio) { speak(said, ownTurn); return; }
    let failed = false;
    const fallBack = () => {
      if (failed || ownTurn !== turn) return;
      failed = true;
      speak(said, ownTurn);
    };
    audio.onended = () => { if (ownTurn === turn) playNext(); };
    audio.onerror = fallBack;
    audio.src = said.audio;
    audio.play().catch(fallBack);
  }

  function silence() {
    turn += 1;
    audio.onended = null;
    audio.onerror = null;
    audio.pause();
    if (window.speechSynthesis) window.speechSynthesis.cancel();
    playlist = [];
    root.dataset.playing = "false";
  }

  function show(view) {
    state = view.state;
    typed = "";
    $("sim-typed").textContent = "";
    view.said.forEach((said) => { if (said.text) note(said.text, said.lang, false); });
    silence();
    playlist = view.said.filter((said) => said.audio || said.text);
    setStatus();
    playNext();
  }

  async function request(url, body) {
    busy = true;
    clearTimer();
    setStatus();
    $("sim-error").hidden = true;
    try {
      const headers = { "Content-Type": "application/json" };
      if (root.dataset.csrf) headers["X-CSRF-Token"] = root.dataset.csrf;
      const response = await fetch(url, {
        method: "POST",
        headers: headers,
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
    if (event === "keys") {
      const shown = value.length > 4 ? "•".repeat(value.length) : value;
      note(root.dataset.youPressed.replace("{keys}", shown), null, true);
    }
    return request(root.dataset.stepsUrl, { state: state, event: event, keys: value || null });
  }

  function press(key) {
    if (!state || !state.gather || busy) return;
    const gather = state.gather;
    if (gather.finish && key === gather.finish) {
      if (typed) send("keys", typed); else send("silence");
      return;
    }
    silence();  // a key pressed over a prompt cuts it short, as on a real line
    typed += key;
    $("sim-typed").textContent = typed;
    clearTimer();
    if (typed.length >= gather.digits) send("keys", typed);
    else timer = setTimeout(() => send("keys", typed), gather.timeout * 1000);
  }

  $("sim-dial").addEventListener("submit", (event) => {
    event.preventDefault();
    $("sim-transcript").textContent = "";
    request(root.dataset.callsUrl, { caller: $("sim-caller").value.trim() });
  });
  $("sim-hangup").addEventListener("click", () => { silence(); send("hangup"); });
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
