// Kiosk steps start again for the next patient after a while without a tap: a warning
// first, with "I'm still here" (WCAG 2.2.1); any tap or key counts. The thank-you page
// also resets after a few seconds unless tapped. Without JavaScript, "New patient"
// does it, and the server starts again on a tap at a step left too long.
(function () {
  var warning = document.getElementById("kiosk-warning");
  if (!warning) return;
  document.documentElement.className += " pulse-js";
  var limit = 1000 * Number(warning.getAttribute("data-kiosk-timeout") || 60);
  var warnAt = limit - 1000 * Number(warning.getAttribute("data-kiosk-warning") || 20);
  var stay = document.getElementById("kiosk-stay");
  var last = Date.now();
  var note = document.querySelector("[data-kiosk-reset]");
  var timer;
  function reset(url) {
    window.clearInterval(timer);
    window.location.replace(url || warning.getAttribute("data-kiosk-start"));
  }
  var quick = note && window.setTimeout(function () {
    reset(note.getAttribute("data-kiosk-reset"));
  }, 1000 * Number(note.getAttribute("data-seconds") || 6));
  function active(event) {
    if (event.target.closest && event.target.closest("#next-patient")) return;
    window.clearTimeout(quick);
    last = Date.now();
    warning.hidden = true;
  }
  timer = window.setInterval(function () {
    var idle = Date.now() - last;
    if (idle >= limit) {
      reset();
    } else if (idle >= warnAt && warning.hidden) {
      warning.hidden = false;
      stay.focus();
    }
  }, 1000);
  ["pointerdown", "keydown", "click"].forEach(function (name) {
    document.addEventListener(name, active);
  });
})();
