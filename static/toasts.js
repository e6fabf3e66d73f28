// Toasts in #toasts: the server adds them out of band (app/web/errors.py answers htmx
// requests with one); this file dismisses them on their button or after a while, and
// shows one for errors htmx meets without such an answer (a dropped connection, a
// refused form). A toast never times out while the pointer or focus is on it.
(function () {
  "use strict";

  const LIFETIME_MS = 8000;
  const TICK_MS = 250;
  const MAX_TOASTS = 4;

  function dismiss(toast) {
    if (toast.classList.contains("toast-leaving")) return;
    toast.classList.add("toast-leaving");
    toast.addEventListener("animationend", () => toast.remove());
    setTimeout(() => toast.remove(), 400); // no animation when motion is reduced
  }

  function arm(toast) {
    if (toast.dataset.armed) return;
    toast.dataset.armed = "true";
    const text = toast.textContent.trim();
    const container = toast.parentElement;
    // The same message twice (a button pressed again) shows once, as the newest.
    for (const other of container.querySelectorAll("[data-toast]")) {
      if (other !== toast && other.textContent.trim() === text) other.remove();
    }
    const all = container.querySelectorAll("[data-toast]");
    for (let i = 0; i < all.length - MAX_TOASTS; i++) all[i].remove();
    let left = LIFETIME_MS;
    const timer = setInterval(() => {
      if (!toast.isConnected) return clearInterval(timer);
      if (toast.matches(":hover, :focus-within")) return;
      left -= TICK_MS;
      if (left <= 0) {
        clearInterval(timer);
        dismiss(toast);
      }
    }, TICK_MS);
  }

  function armWithin(element) {
    if (!(element instanceof Element)) return;
    const toasts = element.matches("[data-toast]") ? [element] : element.querySelectorAll("#toasts [data-toast]");
    toasts.forEach(arm);
  }

  function show(message) {
    const template = document.getElementById("toast-template");
    const container = document.getElementById("toasts");
    if (!template || !container) return;
    const toast = template.content.firstElementChild.cloneNode(true);
    toast.querySelector(".toast-message").textContent = message;
    container.append(toast);
    arm(toast);
  }

  function messageFor(xhr) {
    const type = xhr.getResponseHeader("Content-Type") || "";
    const text = (xhr.responseText || "").trim();
    if (type.startsWith("text/plain") && text && text.length <= 300) return text;
    return `Nova could not do that (error ${xhr.status}). Reload the page and try again.`;
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-toast-close]");
    if (button) dismiss(button.closest("[data-toast]"));
  });

  // htmx fires this for the page and for everything it swaps in, out-of-band toasts too.
  document.addEventListener("htmx:load", (event) => armWithin(event.detail.elt));

  // Boosted navigation and forms are page loads: show their error page as a browser would.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const detail = event.detail;
    if (detail.boosted && !detail.shouldSwap && detail.xhr.status >= 400) {
      detail.shouldSwap = true;
      detail.isError = false;
    }
  });

  document.addEventListener("htmx:responseError", (event) => show(messageFor(event.detail.xhr)));
  document.addEventListener("htmx:sendError", () =>
    show("Nova could not be reached. Check your connection and try again."),
  );
})();
