// Kiosk thank-you page: get ready for the next patient after a few seconds.
// A tap or key press anywhere but "Next patient" cancels it (WCAG 2.2.1: the
// person can stop the timer); without JavaScript the button does the same job.
(function () {
  var note = document.querySelector("[data-kiosk-reset]");
  if (!note) return;
  document.documentElement.className += " pulse-js";
  var timer = window.setTimeout(function () {
    window.location.replace(note.getAttribute("data-kiosk-reset"));
  }, 1000 * Number(note.getAttribute("data-seconds") || 6));
  function stay(event) {
    if (event.target.closest && event.target.closest("#next-patient")) return;
    window.clearTimeout(timer);
  }
  document.addEventListener("pointerdown", stay);
  document.addEventListener("keydown", stay);
})();
