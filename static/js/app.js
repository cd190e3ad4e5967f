// Small progressive enhancements; everything works without JavaScript.
(function () {
  // Close open <details> menus on Escape or on a click elsewhere.
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") document.querySelectorAll("details.menu[open]").forEach(function (d) { d.open = false; });
  });
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) { if (!d.contains(e.target)) d.open = false; });
  });
  // Copy-to-clipboard buttons: <button data-copy="#id">.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-copy]");
    if (!btn) return;
    var el = document.querySelector(btn.getAttribute("data-copy"));
    if (el && navigator.clipboard) navigator.clipboard.writeText(el.textContent.trim()).then(function () { btn.textContent = "Copied"; });
  });
  // Time zone pickers still on the server's default start on the browser's own zone, when it is one of the choices.
  document.querySelectorAll("select[data-browser-timezone]").forEach(function (select) {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (err) { return; }
    if (!zone || select.value !== select.getAttribute("data-browser-timezone")) return;
    if (Array.prototype.some.call(select.options, function (o) { return o.value === zone; })) select.value = zone;
  });
  // Confirm dangerous actions: <form data-confirm="Really?">.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  }, true);
})();
