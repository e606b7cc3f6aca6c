// paperbell web front: fills the time zone from the browser (still editable) and shows a live
// preview of a query (count over the last 7 days + examples) from /api/preview. Optional: every
// form works without it.
(function () {
  "use strict";
  var tz = document.getElementById("timezone");
  if (tz && tz.dataset.autofill === "1" && window.Intl) {
    try {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone) { tz.value = zone; }
    } catch (e) { /* keep the server's default */ }
  }
  function text(tag, value) { var el = document.createElement(tag); el.textContent = value; return el; }
  function render(out, data) {
    out.replaceChildren();
    if (!data.ok) { var err = text("p", data.error); err.className = "error"; out.appendChild(err); return; }
    out.appendChild(text("p", data.count + " paper" + (data.count === 1 ? "" : "s") + " matched in the last " + data.days + " days."));
    if (data.examples.length) {
      var list = document.createElement("ul");
      data.examples.forEach(function (ex) { list.appendChild(text("li", ex.title)); });
      out.appendChild(list);
    }
  }
  document.querySelectorAll("[data-preview-for]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var field = document.getElementById(button.dataset.previewFor);
      var out = document.getElementById(button.dataset.previewOut);
      out.textContent = "Checking…";
      fetch("/api/preview?q=" + encodeURIComponent(field.value), { headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (data) { render(out, data); })
        .catch(function () { out.textContent = "Preview unavailable right now."; });
    });
  });
})();
