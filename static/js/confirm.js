// Answers that end the run or send the work back ask first, in the page (no browser dialog): the
// button marked data-confirm reveals its confirmation instead of submitting; the confirmation's own
// button submits with ?confirmed=1. Listening in the capture phase keeps htmx from posting the first
// click. Without this file the server shows the same confirmation after the first click.
document.addEventListener("click", function (event) {
  const asking = event.target.closest && event.target.closest("[data-confirm]");
  if (asking) {
    const step = document.getElementById(asking.dataset.confirm);
    if (!step) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    step.hidden = false;
    asking.setAttribute("aria-expanded", "true");
    const confirmed = step.querySelector("[data-confirmed]");
    if (confirmed) confirmed.focus();
    return;
  }
  const cancel = event.target.closest && event.target.closest("[data-confirm-cancel]");
  if (cancel) {
    const step = cancel.closest("[data-confirm-step]");
    if (!step) return;
    step.hidden = true;
    const opener = document.querySelector("[data-confirm='" + step.id + "']");
    if (opener) { opener.setAttribute("aria-expanded", "false"); opener.focus(); }
  }
}, true);

// Persetujuan: "pilih semua" ticks every item offered for "Approve selected".
document.addEventListener("change", function (event) {
  const all = event.target.closest && event.target.closest("[data-select-all]");
  if (!all) return;
  const form = all.form || document;
  form.querySelectorAll("input[name='selected']").forEach(function (box) {
    if (!box.disabled) box.checked = all.checked;
  });
});
