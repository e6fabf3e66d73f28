// The thread page's comforts that htmx cannot give by itself:
// - it opens at the newest message and follows a streaming reply while the reader is at the
//   bottom (also when the list shrinks, as a phone's keyboard opens); scrolled up, it stays
//   put and offers "Jump to latest";
// - Enter sends, Shift+Enter is a newline (never while an IME is composing), Ctrl/Cmd+Enter sends;
// - while a reply is being written (or waits for an answer) the composer shows Stop instead
//   of Send, and a "still replying" refusal clears itself once the reply ends;
// - Copy buttons on every message and every code block (with its language);
// - a long thread opens at its newest page; an earlier page loads above without moving the view.
// Everything is found again after each htmx swap: boosted navigation replaces the page body.
(function () {
  "use strict";

  const NEAR_BOTTOM_PX = 48;
  const COPIED_MS = 1500;
  const ACTIVE_RUN = "#messages .message-streaming, #messages .pause-card";

  // ---------- Following the newest message ----------

  // The list's height when last seen: whether the reader was at the bottom is judged against
  // it, not against the grown list, and never from a scroll event that may not have come yet.
  let knownHeight = 0;

  function messages() {
    return document.getElementById("messages");
  }

  // #messages scrolls on wide screens; on narrow ones the page itself does (app.css).
  function scroller() {
    const list = messages();
    if (!list) return null;
    const overflow = getComputedStyle(list).overflowY;
    return overflow === "auto" || overflow === "scroll" ? list : document.scrollingElement;
  }

  function jumpButton() {
    return document.getElementById("jump-latest");
  }

  function toLatest() {
    const element = scroller();
    if (!element) return;
    element.scrollTop = element.scrollHeight;
    knownHeight = element.scrollHeight;
    const jump = jumpButton();
    if (jump) jump.hidden = true;
  }

  // A search result opens its thread at the message it found (#messages' data-found).
  function toFound(list) {
    const found = list.dataset.found ? document.getElementById(list.dataset.found) : null;
    if (!found) return false;
    found.classList.add("is-found");
    found.scrollIntoView({ block: "center" });
    knownHeight = scroller().scrollHeight;
    return true;
  }

  function onScroll() {
    const element = scroller();
    const jump = jumpButton();
    if (!element || !jump) return;
    if (element.scrollHeight - element.scrollTop - element.clientHeight <= NEAR_BOTTOM_PX) jump.hidden = true;
  }

  // An earlier page replaced the "Load earlier messages" link, above what the reader sees:
  // the view keeps its place and nothing is "new".
  function isEarlierPage(records) {
    return records.some((record) =>
      Array.from(record.removedNodes).some((node) => node instanceof Element && node.id === "messages-older"),
    );
  }

  function onNewContent(records) {
    // Copy buttons first (only on what was added: a streamed token must not cost a walk over
    // a long thread), so the heights below include them; their own mutations are ours, dropped.
    for (const record of records) {
      for (const node of record.addedNodes) if (node instanceof Element) decorate(node);
    }
    observer.takeRecords();
    const element = scroller();
    if (element && isEarlierPage(records)) {
      element.scrollTop += element.scrollHeight - knownHeight;
      knownHeight = element.scrollHeight;
    } else if (element) {
      const wasAtBottom = element.scrollTop + element.clientHeight >= knownHeight - NEAR_BOTTOM_PX;
      if (wasAtBottom) {
        toLatest();
      } else if (element.scrollHeight > knownHeight) {
        const jump = jumpButton();
        if (jump) jump.hidden = false;
      }
      knownHeight = element.scrollHeight;
    }
    syncComposer();
  }

  // A phone's keyboard (or a turned screen) resizes the list: a reader who was at the bottom
  // stays there, judged against the height the list had before.
  let knownClientHeight = 0;

  function onResize() {
    const element = scroller();
    if (!element) return;
    const wasAtBottom = element.scrollTop + knownClientHeight >= element.scrollHeight - NEAR_BOTTOM_PX;
    knownClientHeight = element.clientHeight;
    if (wasAtBottom) toLatest();
  }

  // ---------- The composer ----------

  let wasBusy = false;

  function syncComposer() {
    const composer = document.getElementById("composer");
    if (!composer) return;
    const busy = document.querySelector(ACTIVE_RUN) !== null;
    composer.classList.toggle("is-replying", busy);
    const send = composer.querySelector(".composer-send");
    const stop = composer.querySelector(".composer-stop");
    if (send) send.disabled = busy;
    if (stop) stop.hidden = !busy;
    if (wasBusy && !busy) clearRefusal(composer);
    wasBusy = busy;
  }

  function clearRefusal(composer) {
    const error = composer.querySelector("#composer-content-error");
    if (error) error.remove();
    const field = composer.querySelector(".field.has-error");
    if (field) field.classList.remove("has-error");
    const content = composer.querySelector("#composer-content");
    if (content) {
      content.removeAttribute("aria-invalid");
      content.removeAttribute("aria-describedby");
    }
  }

  function stopActiveRun() {
    const form = document.querySelector(
      "#messages .message-streaming form.run-stop, #messages .pause-card form.run-stop",
    );
    if (form) form.requestSubmit();
  }

  function onKeydown(event) {
    const field = event.target;
    if (!(field instanceof HTMLTextAreaElement) || field.id !== "composer-content") return;
    if (event.key !== "Enter" || event.isComposing || event.keyCode === 229) return;
    const modified = event.ctrlKey || event.metaKey;
    if ((event.shiftKey || event.altKey) && !modified) return; // a newline
    event.preventDefault();
    const send = field.form && field.form.querySelector(".composer-send");
    if (!send || send.disabled || field.value.trim() === "") return;
    field.form.requestSubmit(send);
  }

  // ---------- Copy buttons ----------

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return true;
      } catch (_) {
        // denied: fall back below
      }
    }
    // Plain http on a LAN address is not a secure context: the older way still works there.
    const buffer = document.createElement("textarea");
    buffer.value = text;
    buffer.setAttribute("readonly", "");
    buffer.className = "copy-buffer";
    document.body.append(buffer);
    buffer.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (_) {
      copied = false;
    }
    buffer.remove();
    return copied;
  }

  function copyButton(label, source) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = "Copy";
    button.setAttribute("aria-label", label);
    button.addEventListener("click", async () => {
      const copied = await copyText(source());
      button.textContent = copied ? "Copied" : "Copy failed";
      setTimeout(() => (button.textContent = "Copy"), COPIED_MS);
    });
    return button;
  }

  // `root` and what is inside it.
  function within(root, selector) {
    return root.matches(selector) ? [root, ...root.querySelectorAll(selector)] : root.querySelectorAll(selector);
  }

  function decorate(root) {
    if (!root) return;
    for (const message of within(root, ".message:not(.message-streaming):not(.pause-card)")) {
      const meta = message.querySelector(":scope > .message-meta");
      const body = message.querySelector(":scope > .message-body");
      if (!meta || !body || meta.querySelector(".copy-button")) continue;
      meta.append(copyButton("Copy message", () => body.innerText.trim()));
    }
    for (const pre of within(root, ".markdown pre")) {
      if (pre.parentElement.classList.contains("code-block")) continue;
      const code = pre.querySelector("code");
      const language = code ? [...code.classList].find((name) => name.startsWith("language-")) : null;
      const block = document.createElement("div");
      block.className = "code-block";
      const head = document.createElement("div");
      head.className = "code-head";
      const label = document.createElement("span");
      label.className = "code-language";
      label.textContent = language ? language.slice("language-".length) : "text";
      head.append(label, copyButton("Copy code", () => (code || pre).textContent));
      pre.replaceWith(block);
      block.append(head, pre);
    }
  }

  // ---------- Wiring ----------

  let observed = null;
  const observer = new MutationObserver(onNewContent);
  const resizeObserver = new ResizeObserver(onResize);

  function setup() {
    const list = messages();
    if (!list || list === observed) {
      syncComposer();
      return;
    }
    observer.disconnect();
    resizeObserver.disconnect();
    observed = list;
    observer.observe(list, { childList: true, subtree: true, characterData: true });
    list.addEventListener("scroll", onScroll, { passive: true });
    decorate(list);
    if (!toFound(list)) toLatest(); // a thread opens at its newest message
    knownClientHeight = list.clientHeight;
    resizeObserver.observe(list);
    syncComposer();
  }

  document.addEventListener("keydown", onKeydown);
  document.addEventListener("click", (event) => {
    if (!(event.target instanceof Element)) return;
    if (event.target.closest(".composer-stop")) stopActiveRun();
    if (event.target.closest("#jump-latest")) toLatest();
  });
  window.addEventListener("scroll", onScroll, { passive: true });
  document.addEventListener("DOMContentLoaded", setup);
  document.addEventListener("htmx:afterSettle", setup);
})();
