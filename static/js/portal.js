// Small behaviours of the portal's pages, all optional: without JavaScript every page works.
// - Sideways scrollers (section nav, Events tabs): the chosen item is scrolled into view and a
//   fade at an edge says there is more that way.
// - Waiting: a control whose request is on its way is aria-busy (CSS shows a spinner), for htmx
//   requests and for ordinary form posts (Log in, Pay and book).
// - Menus (<details class="menu">): close on Escape, on a click outside, and once an item is chosen.
// - Local times (<time data-local-time="<organiser's zone>" datetime="...">, e.g. when a held
//   place is released): the page states the time in the organiser's zone; when the browser's
//   zone reads it differently, the browser's reading is added.
// - The Account page's time zone (<select data-browser-zone>): when this device's zone is one of
//   the choices and not the one chosen, a button offers to choose it (saving stays the booker's).
(function () {
  "use strict";

  // Scrollers -------------------------------------------------------------------------------
  function updateFades(frame) {
    const scroller = frame.querySelector(".scroller");
    if (!scroller) return;
    const max = scroller.scrollWidth - scroller.clientWidth;
    frame.classList.toggle("has-more-start", scroller.scrollLeft > 2);
    frame.classList.toggle("has-more-end", max - scroller.scrollLeft > 2);
  }

  function showCurrent(frame) {
    const scroller = frame.querySelector(".scroller");
    const current = scroller && scroller.querySelector("[aria-current]");
    if (!current) return;
    // Scroll the scroller only (scrollIntoView would also move the page).
    const left = current.offsetLeft - scroller.offsetLeft;
    const right = left + current.offsetWidth;
    if (left < scroller.scrollLeft || right > scroller.scrollLeft + scroller.clientWidth) {
      scroller.scrollLeft = Math.max(0, left - (scroller.clientWidth - current.offsetWidth) / 2);
    }
  }

  function setUpScrollers(root) {
    root.querySelectorAll(".scroller-frame").forEach(function (frame) {
      showCurrent(frame);
      updateFades(frame);
      if (frame.dataset.scrollerReady) return;
      frame.dataset.scrollerReady = "1";
      const scroller = frame.querySelector(".scroller");
      if (scroller) {
        scroller.addEventListener("scroll", function () { updateFades(frame); }, { passive: true });
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () { setUpScrollers(document); });
  window.addEventListener("resize", function () {
    document.querySelectorAll(".scroller-frame").forEach(updateFades);
  });
  document.addEventListener("htmx:afterSettle", function () { setUpScrollers(document); });

  // Waiting ---------------------------------------------------------------------------------
  function busy(element, on) {
    if (!element) return;
    if (on) element.setAttribute("aria-busy", "true");
    else element.removeAttribute("aria-busy");
  }

  // The control the person used: a form's submit button, or the link or element itself.
  function controlOf(event) {
    const elt = event.detail.elt;
    if (elt && elt.tagName === "FORM") {
      const submitter = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent
        && event.detail.requestConfig.triggeringEvent.submitter;
      return submitter || elt.querySelector("button[type=submit], button:not([type])");
    }
    return elt;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    const control = controlOf(event);
    busy(control, true);
    event.detail.elt.__busyControl = control;
    // The Events tabs and filter: the panel they replace is busy too.
    const panel = event.detail.target && event.detail.target.closest && event.detail.target.closest(".tab-panel");
    if (panel) busy(panel, true);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    busy(event.detail.elt.__busyControl, false);
    const panel = event.detail.target && event.detail.target.closest && event.detail.target.closest(".tab-panel");
    if (panel) busy(panel, false);
  });

  // Plain form posts (Log in, booking): the button shows it is working, and a second press
  // does not send the form twice.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (event.defaultPrevented || form.hasAttribute("hx-post") || form.hasAttribute("hx-get")) return;
    if (form.dataset.submitting) {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "1";
    busy(event.submitter || form.querySelector("button[type=submit], button:not([type])"), true);
  });

  // Back to a page from the cache: nothing is on its way any more.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("[aria-busy=true]").forEach(function (el) { busy(el, false); });
    document.querySelectorAll("form[data-submitting]").forEach(function (f) { delete f.dataset.submitting; });
  });

  // Menus -----------------------------------------------------------------------------------
  function closeMenu(menu, focusSummary) {
    if (!menu.open) return;
    menu.open = false;
    if (focusSummary) menu.querySelector("summary").focus();
  }

  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) closeMenu(menu, false);
    });
    // An item chosen: the menu closes (its dialog opens; focus comes back to the summary later).
    const item = event.target.closest("details.menu .menu__items a");
    if (item) {
      const menu = item.closest("details.menu");
      window.setTimeout(function () { menu.open = false; }, 0);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    const menu = document.activeElement && document.activeElement.closest("details.menu[open]");
    if (menu) {
      event.preventDefault();
      closeMenu(menu, true);
    }
  });

  // One open menu at a time.
  document.addEventListener("toggle", function (event) {
    const menu = event.target;
    if (!(menu instanceof HTMLDetailsElement) || !menu.classList.contains("menu") || !menu.open) return;
    document.querySelectorAll("details.menu[open]").forEach(function (other) {
      if (other !== menu) other.open = false;
    });
  }, true);

  // Local times -----------------------------------------------------------------------------
  function addLocalTimes(root) {
    root.querySelectorAll("time[data-local-time]:not([data-local-done])").forEach(function (node) {
      node.dataset.localDone = "1";
      const moment = new Date(node.getAttribute("datetime"));
      if (isNaN(moment)) return;
      const lang = document.documentElement.lang || undefined;
      const parts = { weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" };
      const here = moment.toLocaleString(lang, parts);
      let there = null;
      try {
        there = moment.toLocaleString(lang, Object.assign({ timeZone: node.dataset.localTime }, parts));
      } catch (error) { /* an unknown zone: say it in ours anyway */ }
      if (here === there) return;  // the browser reads the same time as the page says
      const local = moment.toLocaleString(lang, Object.assign({ timeZoneName: "short" }, parts));
      const note = document.createElement("span");
      note.className = "local-time";
      note.textContent = " (" + local + ")";
      node.after(note);
    });
  }
  addLocalTimes(document);
  document.addEventListener("htmx:afterSettle", function (event) { addLocalTimes(event.target); });

  // The device's time zone -------------------------------------------------------------------
  function offerBrowserZone(root) {
    root.querySelectorAll("select[data-browser-zone]").forEach(function (select) {
      const form = select.form;
      const note = form && form.querySelector("[data-browser-zone-note]");
      const use = note && note.querySelector("[data-browser-zone-use]");
      let zone = "";
      try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (error) { return; }
      const option = Array.prototype.find.call(select.options, function (o) { return o.value === zone; });
      if (!note || !use || !option || select.value === zone) return;
      note.querySelector("[data-browser-zone-name]").textContent = zone.replace(/_/g, " ");
      note.hidden = false;
      use.addEventListener("click", function () {
        select.value = zone;
        note.hidden = true;
        select.focus();
      });
    });
  }
  offerBrowserZone(document);
})();
