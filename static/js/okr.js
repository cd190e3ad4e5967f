// OKR pages: kind-aware key result forms. Without JavaScript every field shows, each with its help text.
(function () {
  function sync(form) {
    var kind = form.querySelector("select[name=kind]");
    var unit = form.querySelector("select[name=unit]");
    form.querySelectorAll("[data-kinds]").forEach(function (input) {
      var field = input.closest(".field");
      if (!field || !kind) return;
      field.hidden = input.getAttribute("data-kinds").split(" ").indexOf(kind.value) === -1;
    });
    var label = form.querySelector("[name=unit_label]");
    if (label && unit) {
      var f = label.closest(".field");
      if (f) f.hidden = ["currency", "custom"].indexOf(unit.value) === -1;
    }
  }
  function init(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("form[data-kr-form]").forEach(function (form) {
      if (form.dataset.krInit) return;
      form.dataset.krInit = "1";
      form.addEventListener("change", function (e) {
        if (e.target.name === "kind" || e.target.name === "unit") sync(form);
      });
      sync(form);
    });
  }
  // Cancel buttons of inline forms that have nothing to restore: <button data-dismiss-closest="form">.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-dismiss-closest]");
    if (!btn) return;
    var el = btn.closest(btn.getAttribute("data-dismiss-closest"));
    if (el) el.remove();
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (e) { init(e.target.parentNode || document); });
})();
// Cycle board filters follow the URL. htmx's history restore (Back / Forward) puts back the board's HTML but not
// the values of form controls (a snapshot is markup, and a chosen <option> or typed text is not), and the browser's
// own form restore can do the same on a back-forward cache hit; so set each control from location.search.
(function () {
  function syncBoardFilters() {
    var form = document.querySelector("form[data-board-filters]");
    if (!form) return;
    var params = new URLSearchParams(window.location.search);
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "submit" || el.type === "button") return;
      var value = params.get(el.name) || "";
      if (el.value !== value) el.value = value;
    });
  }
  document.addEventListener("htmx:historyRestore", syncBoardFilters);
  window.addEventListener("pageshow", syncBoardFilters);
  window.addEventListener("popstate", function () { window.setTimeout(syncBoardFilters, 0); });
})();
