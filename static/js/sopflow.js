// A double-clicked button must not act twice: a form marked data-once submits once.
document.addEventListener("submit", function (event) {
  const form = event.target;
  if (!form.hasAttribute("data-once")) return;
  if (form.dataset.submitted) { event.preventDefault(); return; }
  form.dataset.submitted = "1";
  // Disable after this event: the browser has already taken the clicked button's name/value (Ya/Tidak).
  setTimeout(function () { form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; }); }, 0);
});

// Approvals: a refused Setuju/Tolak (400 bad input, 403 not allowed, 409 someone was faster) is
// swapped in like a success, so that the item shows the reason in place. (Not an hx-on attribute:
// the Content-Security-Policy allows no inline script.)
document.addEventListener("htmx:beforeSwap", function (event) {
  if (!event.target.closest || !event.target.closest("[data-swap-refusals]")) return;
  if ([400, 403, 409].includes(event.detail.xhr.status)) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// SOP editor: a Ya/Tidak choice names its step by number and the start of its activity, as typed
// (templates/procedures/authoring/editor.html marks the activities and the target lists).
document.addEventListener("input", function (event) {
  const field = event.target;
  if (!field.matches || !field.matches("[data-step-key]")) return;
  const text = field.value.trim();
  const label = field.dataset.stepNumber + (text ? ". " + (text.length <= 40 ? text : text.slice(0, 39) + "…") : "");
  document.querySelectorAll("select[data-step-targets] option").forEach(function (option) {
    if (option.value === field.dataset.stepKey) option.textContent = label;
  });
});
