// My week: Enter in a row saves that row (htmx), and after a swap the first invalid field gets the focus.
(function () {
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || e.isComposing) return;
    var field = e.target;
    if (!field.matches || !field.matches("input, select")) return;
    var row = field.closest(".checkin-row");
    var button = row && row.querySelector("[data-row-save]");
    if (!button || !window.htmx) return; // without htmx, Enter submits the whole form ("Save all")
    e.preventDefault();
    button.click();
  });
  document.addEventListener("htmx:afterSettle", function (e) {
    // outerHTML swaps replace the target; find the new row by its id.
    var id = e.detail.target && e.detail.target.id;
    var row = id && document.getElementById(id);
    if (!row || !row.classList.contains("checkin-row")) return;
    var invalid = row.querySelector("[aria-invalid=true], .field-error input, .field-error select");
    if (invalid) invalid.focus();
  });
})();
// "Save all" is a plain form POST: when it comes back with errors (422), the first invalid field gets the focus, as
// after a row's own Save.
document.addEventListener("DOMContentLoaded", function () {
  var invalid = document.querySelector("#my-week-form [aria-invalid=true]");
  if (invalid) invalid.focus();
});
