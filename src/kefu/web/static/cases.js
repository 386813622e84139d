// The case workspace's keyboard and small helpers; the pages work without it.
// j/k move through a list, Enter opens, r reply, n note, a assign, / search, ? the list of keys.
(function () {
  "use strict";
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }
  function items() { return Array.prototype.slice.call(document.querySelectorAll("[data-key-list] [data-key-item]")); }
  var current = -1;
  function move(step) {
    var all = items();
    if (!all.length) return;
    if (current >= 0 && all[current]) all[current].classList.remove("key-current");
    current = Math.max(0, Math.min(all.length - 1, current + step));
    all[current].classList.add("key-current");
    all[current].scrollIntoView({ block: "nearest" });
    var link = all[current].querySelector("a");
    if (link) link.focus({ preventScroll: true });
  }
  function focus(selector) {
    var field = document.querySelector(selector);
    if (!field) return false;
    var box = field.closest("details");
    if (box) box.open = true;
    field.focus();
    return true;
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var done = true;
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "Enter":
        var all = items();
        if (current >= 0 && all[current]) window.location.href = all[current].getAttribute("data-href");
        else done = false;
        break;
      case "r": done = focus("[data-key-reply]"); break;
      case "n": done = focus("[data-key-note]"); break;
      case "a": done = focus("[data-key-assign]"); break;
      case "/": done = focus("[data-key-search]") || focus("#case-search") || focus("#q"); break;
      case "?":
        var help = document.getElementById("key-help");
        if (help && help.showModal) { if (help.open) help.close(); else help.showModal(); } else done = false;
        break;
      default: done = false;
    }
    if (done) event.preventDefault();
  });
  document.querySelectorAll("button[data-insert]").forEach(function (button) { button.disabled = false; });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-insert]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-target"));
    if (!field) return;
    var text = button.getAttribute("data-insert");
    var start = field.selectionStart || 0;
    field.value = field.value.slice(0, start) + text + field.value.slice(field.selectionEnd || start);
    field.focus();
    // a part the case could not fill (no committed time, say) is selected to be typed over
    var part = button.getAttribute("data-to-fill");
    var at = part ? field.value.indexOf(part, start) : -1;
    if (at >= 0) field.setSelectionRange(at, at + part.length);
    var replyId = button.getAttribute("data-canned-id");
    var csrf = document.querySelector("input[name=csrf_token]");
    if (replyId && csrf) {  // a saved reply's uses are counted
      fetch("/console/canned/" + replyId + "/used", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf.value } });
    }
  });
})();
