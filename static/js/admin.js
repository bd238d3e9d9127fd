// Accessibility fixes for widgets of Django's admin (a file: the Content-Security-Policy allows no
// inline script). They run after the widgets are built: Django builds them on DOMContentLoaded
// (select2 autocompletes) and on load (the two-box pickers), so this waits for both.
window.addEventListener("load", function () {
  setTimeout(function () {
    // The two-box pickers' magnifier icons carry an aria-label on a plain span: give them a role
    // for which a label is allowed.
    document.querySelectorAll("span.help-tooltip[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
    // An autocomplete (select2) names its box by the chosen value only: add the field's label.
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      const label = document.querySelector("label[for='" + select.id + "']");
      const container = select.nextElementSibling;
      const box = container && container.querySelector(".select2-selection[aria-labelledby]");
      if (!label || !box) return;
      if (!label.id) label.id = select.id + "_label";
      const ids = box.getAttribute("aria-labelledby").split(" ");
      if (!ids.includes(label.id)) box.setAttribute("aria-labelledby", [label.id].concat(ids).join(" "));
      const shown = container.querySelector(".select2-selection__rendered[role]");
      if (shown && !shown.hasAttribute("aria-label")) shown.setAttribute("aria-labelledby", label.id + " " + shown.id);
    });
    // A tabular inline's "Delete?" boxes have no label of their own: name them by their column.
    document.querySelectorAll("td.delete input[type=checkbox]:not([aria-label])").forEach(function (box) {
      const header = box.closest("table").querySelector("thead tr");
      if (header && header.lastElementChild) box.setAttribute("aria-label", header.lastElementChild.textContent.trim());
    });
  }, 0);
});
