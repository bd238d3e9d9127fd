// A file field marked data-max-bytes (a task's output files) is checked as soon as files are
// chosen and again on submit: too large or of a type sopflow refuses, the form says so next to the
// field and is not sent (the server checks again whatever the browser did).
function sopflowFileProblems(input) {
  const limit = parseInt(input.dataset.maxBytes, 10);
  const types = (input.dataset.types || "").split(",").filter(Boolean);
  const format = new Intl.NumberFormat(document.documentElement.lang || undefined, {minimumFractionDigits: 1, maximumFractionDigits: 1});
  const problems = [];
  Array.from(input.files || []).forEach(function (file) {
    const dot = file.name.lastIndexOf(".");
    const extension = dot < 0 ? "" : file.name.slice(dot + 1).toLowerCase();
    if (types.length && !types.includes(extension)) {
      problems.push(input.dataset.wrongType.replace("{name}", file.name));
    } else if (limit && file.size > limit) {
      problems.push(input.dataset.tooLarge.replace("{name}", file.name).replace("{size}", format.format(file.size / 1024 / 1024)));
    }
  });
  return problems;
}

function sopflowShowFileProblems(input) {
  const problems = sopflowFileProblems(input);
  let box = document.getElementById(input.id + "_browser_check");
  if (!box) {
    box = document.createElement("div");
    box.id = input.id + "_browser_check";
    box.className = "invalid-feedback d-block";
    box.setAttribute("role", "alert");
    input.insertAdjacentElement("afterend", box);
  }
  box.textContent = problems.join(" ");
  input.classList.toggle("is-invalid", problems.length > 0);
  const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) { return id && id !== box.id; });
  if (problems.length) described.push(box.id);
  if (described.length) input.setAttribute("aria-describedby", described.join(" ")); else input.removeAttribute("aria-describedby");
  return problems.length === 0;
}

document.addEventListener("change", function (event) {
  const input = event.target;
  if (input.matches && input.matches("input[type=file][data-max-bytes]")) sopflowShowFileProblems(input);
});

document.addEventListener("submit", function (event) {
  let ok = true;
  event.target.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    if (!sopflowShowFileProblems(input)) ok = false;
  });
  if (!ok) {
    event.preventDefault();
    event.target.querySelector("input[type=file].is-invalid").focus();
  }
});

// A double-clicked button must not act twice: a form marked data-once submits once.
document.addEventListener("submit", function (event) {
  const form = event.target;
  if (event.defaultPrevented || !form.hasAttribute("data-once")) return;
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

// A table that scrolls sideways inside its box (on a phone) can be scrolled with the keyboard too:
// the box becomes focusable (WCAG 2.1.1).
function sopflowScrollableTables() {
  document.querySelectorAll(".table-responsive:not([tabindex])").forEach(function (box) {
    if (box.scrollWidth > box.clientWidth) box.setAttribute("tabindex", "0");
  });
}
sopflowScrollableTables();
window.addEventListener("resize", sopflowScrollableTables);
document.addEventListener("htmx:afterSettle", sopflowScrollableTables);

// SOP editor: a step row dragged by its handle (shown only on a wide screen with a mouse) is put
// before or after the row it is dropped on, and the form is sent as a ↑/↓ button sends it: the rows'
// hidden "langkah" inputs in their new order are the order, the Ya/Tidak targets name steps by
// key (so they stay on the same steps), and the page comes back renumbered with its sheet redrawn.
(function () {
  let dragged = null;
  function clearMarks() {
    document.querySelectorAll(".step-drop-before, .step-drop-after").forEach(function (row) {
      row.classList.remove("step-drop-before", "step-drop-after");
    });
  }
  function targetRow(event) {
    const row = event.target.closest && event.target.closest("tr[data-step-row]");
    return row && dragged && row !== dragged && row.parentNode === dragged.parentNode ? row : null;
  }
  function before(row, event) {
    const box = row.getBoundingClientRect();
    return event.clientY < box.top + box.height / 2;
  }
  document.addEventListener("dragstart", function (event) {
    const handle = event.target.closest && event.target.closest(".step-drag-handle");
    if (!handle) return;
    dragged = handle.closest("tr[data-step-row]");
    dragged.classList.add("step-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.dataset.stepRow);
    event.dataTransfer.setDragImage(dragged, 16, 16);
  });
  document.addEventListener("dragover", function (event) {
    const row = targetRow(event);
    if (!row) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clearMarks();
    row.classList.add(before(row, event) ? "step-drop-before" : "step-drop-after");
  });
  document.addEventListener("drop", function (event) {
    const row = targetRow(event);
    if (!row) return;
    event.preventDefault();
    const moved = dragged;
    row.parentNode.insertBefore(moved, before(row, event) ? row : row.nextSibling);
    clearMarks();
    const form = moved.closest("form");
    const op = document.createElement("input");
    op.type = "hidden";
    op.name = "op";
    op.value = "step-moved:" + moved.dataset.stepRow;
    form.appendChild(op);
    form.requestSubmit();  // the form's values are taken here; a later button sends its own op
    op.remove();
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("step-dragging");
    dragged = null;
    clearMarks();
  });
})();
