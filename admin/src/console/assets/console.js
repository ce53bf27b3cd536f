// Tollgate console: opens dialogs and copies text. Everything else is plain HTML forms.
"use strict";

document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-open-dialog]");
  if (opener) {
    const dialog = document.getElementById(opener.dataset.openDialog);
    if (dialog && typeof dialog.showModal === "function") {
      event.preventDefault();
      dialog.showModal();
    }
    return;
  }
  const copier = event.target.closest("[data-copy]");
  if (copier) {
    const source = document.getElementById(copier.dataset.copy);
    const status = copier.closest("dialog")?.querySelector(".copied");
    if (!source) return;
    const say = (text) => { if (status) status.textContent = text; };
    source.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(
        () => say("Copied to the clipboard."),
        () => say("Selected: press Ctrl+C (⌘C) to copy."),
      );
    } else {
      say("Selected: press Ctrl+C (⌘C) to copy.");
    }
  }
});

document.addEventListener("DOMContentLoaded", () => {
  for (const dialog of document.querySelectorAll("dialog[data-show]")) {
    if (typeof dialog.showModal === "function" && !dialog.open) dialog.showModal();
  }
});
