// The review console's keys: j/k next and previous, a accept, n ask for more, r reject;
// in the queue, j/k move between items, x chooses one, Enter opens it. No build step:
// plain script, loaded from this site only (the CSP forbids inline script).
(function () {
  "use strict";

  function typing(target) {
    return target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  var pending = null; // a decision that waits for its note

  function decide(button) {
    var note = document.getElementById("note");
    if (button.hasAttribute("data-needs-note") && note && !note.value.trim()) {
      pending = button;
      note.focus();
      note.setAttribute("placeholder", button.textContent.trim() + " — Ctrl+Enter");
      return;
    }
    button.click();
  }

  var items = Array.prototype.slice.call(document.querySelectorAll("[data-item]"));
  var current = -1;

  function focusItem(index) {
    if (!items.length) return;
    current = Math.max(0, Math.min(items.length - 1, index));
    var link = items[current].querySelector("[data-open]");
    if (link) link.focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.metaKey) return;
    if (typing(event.target)) {
      if (event.key === "Enter" && event.ctrlKey && pending) {
        event.preventDefault();
        pending.click();
      }
      return;
    }
    if (event.ctrlKey) return;
    var key = event.key;
    if (items.length) {
      if (key === "j" || key === "k") {
        event.preventDefault();
        focusItem(current + (key === "j" ? 1 : -1));
        return;
      }
      if (key === "x" && current >= 0) {
        var box = items[current].querySelector("input[type=checkbox]");
        if (box) box.checked = !box.checked;
        return;
      }
    }
    var target = document.querySelector("[data-key='" + key + "']");
    if (!target) return;
    event.preventDefault();
    if (target.tagName === "A") {
      window.location.href = target.href;
    } else {
      decide(target);
    }
  });

  var all = document.querySelector("[data-select-all]");
  if (all) {
    all.addEventListener("click", function () {
      document.querySelectorAll("input[data-ready]").forEach(function (box) {
        box.checked = true;
      });
    });
  }
})();

// A bulletin's files being made: the bar follows the job; the page reloads when done.
(function () {
  var box = document.querySelector("[data-bulletin-progress]");
  var bar = box && box.querySelector("progress");
  if (!bar) return;
  var timer = setInterval(function () {
    fetch(box.dataset.bulletinProgress, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (state) {
        bar.value = state.progress || 0;
        if (state.fresh || state.state === "failed") {
          clearInterval(timer);
          window.location.reload();
        }
      })
      .catch(function () {});
  }, 1000);
})();
