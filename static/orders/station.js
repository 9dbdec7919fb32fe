/* Pick and pack stations: a USB scanner types the code and presses Enter.
   Keep the scan field focused, post each scan, paint the answer at once. */
(function () {
  "use strict";

  function csrfToken(form) {
    var field = form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function keepFocus(field) {
    var refocus = function () {
      var active = document.activeElement;
      var typingElsewhere = active && active !== field && (active.tagName === "INPUT" || active.tagName === "TEXTAREA");
      if (!typingElsewhere) field.focus();
    };
    field.addEventListener("blur", function () { setTimeout(refocus, 0); });
    document.addEventListener("click", function () { setTimeout(refocus, 0); });
    refocus();
  }

  function paint(data) {
    var feedback = document.getElementById("feedback");
    feedback.textContent = data.message;
    feedback.className = data.ok ? "ok" : "bad";
    Object.keys(data.counts || {}).forEach(function (sku) {
      var row = document.querySelector('tr[data-sku="' + CSS.escape(sku) + '"]');
      if (!row) return;
      row.querySelector(".count").textContent = data.counts[sku];
      row.classList.toggle("done", data.counts[sku] >= data.wanted[sku]);
      if (data.ok && data.sku === sku) {
        row.classList.add("flash-ok");
        setTimeout(function () { row.classList.remove("flash-ok"); }, 400);
      }
    });
    if (typeof data.scanned === "number") document.getElementById("scanned-total").textContent = data.scanned;
    if (!data.ok && (data.outcome === "wrong_item" || data.outcome === "too_many")) {
      var mis = document.getElementById("mis-picks");
      if (mis) mis.textContent = String(Number(mis.textContent) + 1);
    }
  }

  function wire(form) {
    var field = form.querySelector("[data-scan-field]");
    keepFocus(field);
    var busy = Promise.resolve();
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var code = field.value.trim();
      field.value = "";
      if (!code) return;
      // Scans are answered in the order they were made, even when the scanner is faster than the server.
      busy = busy.then(function () {
        return fetch(form.action, {
          method: "POST",
          headers: { "Accept": "application/json", "X-CSRFToken": csrfToken(form) },
          body: new URLSearchParams({ code: code }),
          credentials: "same-origin",
        })
          .then(function (response) { return response.json(); })
          .then(function (data) {
            paint(data);
            if (data.complete || (data.status && data.status !== document.getElementById("status").textContent)) {
              setTimeout(function () { window.location.reload(); }, 600);
            }
          })
          .catch(function () { paint({ ok: false, message: "No answer from the server: scan again." }); });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-scan-form]");
    if (form) {
      wire(form);
      return;
    }
    var first = document.querySelector("[data-first-field]") || document.querySelector("[data-scan-field]");
    if (first) first.focus();
  });
})();
