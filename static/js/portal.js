// The portal's own behaviour, served from static: the Content-Security-Policy runs no inline
// script, no onclick= and no hx-on (which htmx evaluates as code). Templates mark elements with
// data attributes instead, and this file wires them up.

// <a href="..." data-close-modal>: inside the htmx modal, close it; anywhere else (the full-page
// fallback of a dialog) it is an ordinary link.
document.addEventListener("click", function (event) {
  const closer = event.target.closest("[data-close-modal]");
  const modal = document.getElementById("modal");
  if (!closer || !modal || !modal.contains(closer)) {
    return;
  }
  event.preventDefault();
  modal.innerHTML = "";
});
