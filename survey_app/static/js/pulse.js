// Progressive enhancement only: stops a double tap sending the form twice
// (the server stores one response either way).
document.addEventListener("submit", function (event) {
  var button = event.target.querySelector("[data-module=pulse-submit]");
  if (!button) return;
  if (button.getAttribute("aria-disabled") === "true") { event.preventDefault(); return; }
  button.setAttribute("aria-disabled", "true");
});
