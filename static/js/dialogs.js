// Dialogs that htmx loads into #modal open as real modal dialogs: the page behind is inert, focus
// moves into the dialog and stays there, Escape closes it, and focus returns to whatever opened
// it. Without JavaScript the same dialogs render as pages of their own (with the `open` attribute).
(function () {
  "use strict";
  let opener = null;
  let keepFocus = null; // the id of the control inside the dialog that asked for its new state

  function modal() {
    return document.getElementById("modal");
  }

  function closeModal() {
    const box = modal();
    if (box) box.innerHTML = "";
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    const target = event.detail.target;
    const box = modal();
    // A choice inside a dialog that re-renders it (a ticked ticket re-quoted) keeps the focus.
    const active = document.activeElement;
    keepFocus = box && active && active.id && box.contains(active) ? active.id : null;
    // Steps inside a dialog keep the element that opened the first one.
    if (target === box && !(box && box.contains(document.activeElement))) {
      opener = document.activeElement;
      // An item of a menu closes with its menu: focus goes back to the menu's button instead.
      const menu = opener && opener.closest && opener.closest("details.menu");
      if (menu) opener = menu.querySelector("summary");
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target !== modal()) return;
    const dialog = modal().querySelector("dialog");
    if (!dialog) return;
    if (dialog.open) dialog.close();
    dialog.showModal();
    const kept = keepFocus && document.getElementById(keepFocus);
    keepFocus = null;
    const first = kept && dialog.contains(kept)
      ? kept
      : dialog.querySelector("[autofocus], h2, button, a[href], input, select, textarea");
    if (first) {
      if (first.tagName === "H2") first.setAttribute("tabindex", "-1");
      first.focus();
    }
    dialog.addEventListener("cancel", function (cancel) {
      cancel.preventDefault();
      closeModal();
    });
  });

  // <a href="..." data-close-modal>: inside the modal it closes it; anywhere else (the page of its
  // own a dialog is without JavaScript) it is an ordinary link. The CSP runs no hx-on or onclick=.
  document.addEventListener("click", function (event) {
    const closer = event.target.closest("[data-close-modal]");
    const box = modal();
    if (!closer || !box || !box.contains(closer)) return;
    event.preventDefault();
    closeModal();
  });

  // When the modal empties (closed, or replaced out of band after a change), focus goes back.
  document.addEventListener("DOMContentLoaded", function () {
    const box = modal();
    if (!box) return;
    new MutationObserver(function () {
      if (!box.querySelector("dialog") && opener && document.contains(opener)) {
        opener.focus();
        opener = null;
      }
    }).observe(box, { childList: true });
  });

  // A failed request says so instead of failing silently.
  // The words come in the page's language from the data-error-* attributes on <body> (base.html).
  document.addEventListener("htmx:responseError", function (event) {
    showError(event.detail.xhr.status >= 500 ? "errorServer" : "errorRequest");
  });
  document.addEventListener("htmx:sendError", function () {
    showError("errorOffline");
  });

  function showError(key) {
    const messages = document.getElementById("messages");
    if (!messages) return;
    const text = document.body.dataset[key];
    const note = document.createElement("p");
    note.className = "message message--error";
    note.setAttribute("role", "alert");
    note.textContent = text;
    messages.replaceChildren(note);
  }
})();
