// Alignment map: "Expand all" / "Collapse all" for the nested <details> cards (lazy groups stay as they are).
(function () {
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-map-toggle]");
    if (!btn) return;
    var open = btn.getAttribute("data-map-toggle") === "open";
    document.querySelectorAll("#map-tree details.map-node").forEach(function (d) {
      d.open = open;
    });
  });
})();
