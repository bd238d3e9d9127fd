// A double-clicked button must not act twice: a form marked data-once submits once.
document.addEventListener("submit", function (event) {
  const form = event.target;
  if (!form.hasAttribute("data-once")) return;
  if (form.dataset.submitted) { event.preventDefault(); return; }
  form.dataset.submitted = "1";
  // Disable after this event: the browser has already taken the clicked button's name/value (Ya/Tidak).
  setTimeout(function () { form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; }); }, 0);
});
