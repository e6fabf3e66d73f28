// The frame around every page:
// - on narrow screens the top bar's Menu button shows the nav in a panel, and the thread
//   page's Threads button opens the thread list as a drawer. app.css draws both from their
//   buttons' aria-expanded, so that attribute is the only state. Esc, the Close button, a
//   click outside or picking a thread closes them;
// - keyboard shortcuts (Ctrl/Cmd+K: the sidebar's search), and the "?" dialog that lists them
//   (templates/_shortcuts.html).
// Boosted navigation replaces the body, buttons and all: every page starts with both closed.
(function () {
  "use strict";

  const NARROW = window.matchMedia("(max-width: 760px)");

  function isOpen(button) {
    return button !== null && button.getAttribute("aria-expanded") === "true";
  }

  // ---------- The menu: a disclosure, so focus stays on its button (Tab goes on into it) ----------

  function menuToggle() {
    return document.getElementById("menu-toggle");
  }

  function setMenu(open, returnFocus) {
    const toggle = menuToggle();
    if (!toggle) return;
    toggle.setAttribute("aria-expanded", String(open));
    if (!open && returnFocus) toggle.focus();
  }

  // ---------- The thread drawer: modal while open, so what lies under it is inert ----------

  function drawerToggle() {
    return document.getElementById("drawer-toggle");
  }

  function focusInDrawer(drawer) {
    const target =
      drawer.querySelector(".thread-link[aria-current]") ||
      drawer.querySelector(".thread-link") ||
      drawer.querySelector("button");
    if (target) target.focus();
  }

  function setDrawer(open, returnFocus) {
    const toggle = drawerToggle();
    const drawer = document.getElementById("sidebar");
    if (!toggle || !drawer) return;
    toggle.setAttribute("aria-expanded", String(open));
    for (const element of document.querySelectorAll(".topbar, .thread-main")) element.inert = open;
    if (open) focusInDrawer(drawer);
    else if (returnFocus) toggle.focus();
  }

  function onClick(event) {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest("#menu-toggle")) {
      setMenu(!isOpen(menuToggle()), false);
    } else if (isOpen(menuToggle()) && (!target.closest("#topbar-menu") || target.closest("a"))) {
      setMenu(false, false);
    }

    if (target.closest("#drawer-toggle")) {
      setDrawer(true);
    } else if (isOpen(drawerToggle())) {
      // The backdrop is the layout's ::before: a click on it lands on the layout itself.
      if (target.closest(".drawer-close") || target.matches(".thread-layout")) setDrawer(false, true);
      else if (target.closest(".thread-link, .search-hit")) setDrawer(false, false); // the page changes
    }

    if (target.closest(".help-button")) openHelp();
    // A thread's "More actions" menu (a <details>) closes on a click anywhere else.
    for (const menu of document.querySelectorAll("details.thread-more[open]")) {
      if (!menu.contains(target)) menu.open = false;
    }
  }

  // ---------- Keyboard shortcuts (listed in templates/_shortcuts.html) ----------

  function openHelp() {
    const dialog = document.getElementById("shortcuts");
    if (dialog && !dialog.open) dialog.showModal(); // it gives focus back when it closes
  }

  function inTextField(element) {
    return element instanceof Element && element.closest("input, textarea, select, [contenteditable]") !== null;
  }

  function focusComposer() {
    const field = document.getElementById("composer-content");
    if (field) field.focus();
    return field !== null;
  }

  // The sidebar's search box, in the drawer on narrow screens (opened for it).
  function focusSearch() {
    const field = document.getElementById("thread-search");
    if (!field) return false;
    if (drawerToggle() && NARROW.matches && !isOpen(drawerToggle())) setDrawer(true);
    field.focus();
    field.select();
    return true;
  }

  function onEscape(event) {
    if (document.querySelector("dialog[open]")) return; // the dialog closes itself
    if (event.target instanceof Element && event.target.id === "thread-search" && event.target.value) return; // it clears
    if (isOpen(drawerToggle())) {
      setDrawer(false, true);
    } else if (isOpen(menuToggle())) {
      setMenu(false, document.getElementById("topbar-menu").contains(document.activeElement));
    } else if (event.shiftKey) {
      if (!focusComposer()) return;
    } else {
      // The composer's Stop (chat.js) is shown while a reply is written or waits for an answer.
      const stop = document.querySelector("#composer .composer-stop:not([hidden])");
      if (!stop) return;
      stop.click();
    }
    event.preventDefault();
  }

  function onKeydown(event) {
    if (event.defaultPrevented || event.isComposing || event.keyCode === 229) return;
    const modified = event.ctrlKey || event.metaKey;
    if (event.key === "Escape" && !modified && !event.altKey) {
      onEscape(event);
    } else if (modified && event.shiftKey && !event.altKey && event.key.toLowerCase() === "o") {
      // New thread, as in ChatGPT and Open WebUI. The form (base.html) works on every page.
      const form = document.getElementById("new-thread-form");
      if (!form) return;
      event.preventDefault();
      form.requestSubmit();
    } else if (modified && !event.shiftKey && !event.altKey && event.key.toLowerCase() === "k") {
      // Search threads, as in Slack and GitHub (the browser's own Ctrl+K gives way on this page).
      if (!focusSearch()) return;
      event.preventDefault();
    } else if (!modified && !event.altKey && !inTextField(event.target)) {
      // Single keys only outside text fields, where they would be typed.
      if (event.key === "?") openHelp();
      else if (event.key !== "/" || !focusComposer()) return;
      event.preventDefault();
    }
  }

  // ---------- Wiring ----------

  document.addEventListener("click", onClick);
  document.addEventListener("keydown", onKeydown);
  // Going wide with the drawer open would leave the page inert under a drawer no longer drawn.
  NARROW.addEventListener("change", () => {
    setMenu(false, false);
    setDrawer(false, false);
  });
  // htmx keeps a copy of the page for Back: keep it with nothing open.
  document.addEventListener("htmx:beforeHistorySave", () => {
    setMenu(false, false);
    setDrawer(false, false);
  });
  // "Older"/"Newer" replace the list, and the link that had focus with it.
  document.addEventListener("htmx:afterSettle", () => {
    const drawer = document.getElementById("sidebar");
    if (isOpen(drawerToggle()) && drawer && !drawer.contains(document.activeElement)) focusInDrawer(drawer);
  });
})();
