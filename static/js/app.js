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
  // Confirm dangerous actions: <form data-confirm="Really?">.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  }, true);
})();
