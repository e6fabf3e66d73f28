// Files in the composer: the Attach button, drag and drop onto the composer, and paste.
// Each file is uploaded at once (XMLHttpRequest, for its progress bar); once stored, its id
// joins the form as a `files` field and goes with the message. Nova decides each file's
// type from its content; a refusal is shown on the file's own line.
(function () {
  "use strict";

  const PENDING = ".attachment.is-uploading";

  function composer() {
    return document.getElementById("composer");
  }

  function megabytes(bytes) {
    return (bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, "") + " MB";
  }

  function token(form) {
    const input = form.querySelector('input[name="csrf_token"]');
    return input ? input.value : "";
  }

  function line(list, file) {
    const item = document.createElement("li");
    item.className = "attachment is-uploading";
    const name = document.createElement("span");
    name.className = "attachment-name";
    name.textContent = file.name || "pasted file";
    const progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute("aria-label", "Uploading " + name.textContent);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "attachment-remove button button-small button-secondary";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", "Remove " + name.textContent);
    item.append(name, progress, remove);
    list.append(item);
    return item;
  }

  function fail(item, message) {
    item.classList.remove("is-uploading");
    item.classList.add("is-refused");
    const progress = item.querySelector("progress");
    if (progress) progress.remove();
    const error = document.createElement("span");
    error.className = "attachment-error field-error";
    error.setAttribute("role", "alert");
    error.textContent = message;
    item.insertBefore(error, item.querySelector(".attachment-remove"));
  }

  function stored(item, answer) {
    item.classList.remove("is-uploading");
    item.classList.add("is-uploaded");
    const progress = item.querySelector("progress");
    if (progress) progress.remove();
    item.querySelector(".attachment-name").textContent = answer.name + " (" + answer.label + ", " + answer.size_text + ")";
    const field = document.createElement("input");
    field.type = "hidden";
    field.name = "files";
    field.value = answer.id;
    item.append(field);
  }

  function upload(file) {
    const form = composer();
    const box = form && form.querySelector(".composer-files");
    if (!box) return;
    const item = line(box.querySelector(".attachment-list"), file);
    const limit = Number(box.dataset.maxBytes || 0);
    if (limit && file.size > limit) {
      fail(item, "Files are limited to " + megabytes(limit) + "; this one is " + megabytes(file.size) + ".");
      return;
    }
    const body = new FormData();
    body.append("file", file, file.name || "pasted file");
    const request = new XMLHttpRequest();
    request.open("POST", box.dataset.uploadUrl);
    request.setRequestHeader("X-CSRF-Token", token(form));
    request.responseType = "json";
    request.upload.addEventListener("progress", (event) => {
      const progress = item.querySelector("progress");
      if (progress && event.lengthComputable) progress.value = Math.round((event.loaded / event.total) * 100);
    });
    request.addEventListener("load", () => {
      if (request.status === 201 && request.response) stored(item, request.response);
      else fail(item, (request.response && request.response.error) || "The upload was refused (" + request.status + ").");
    });
    request.addEventListener("error", () => fail(item, "The upload failed: Nova could not be reached."));
    item.upload = request;
    request.send(body);
  }

  function uploadAll(files) {
    for (const file of files) upload(file);
  }

  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.id !== "composer-file") return;
    uploadAll(Array.from(input.files || []));
    input.value = "";
  });

  document.addEventListener("click", (event) => {
    if (!(event.target instanceof Element)) return;
    const remove = event.target.closest(".attachment-remove");
    if (!remove) return;
    const item = remove.closest(".attachment");
    if (item && item.upload && item.classList.contains("is-uploading")) item.upload.abort();
    if (item) item.remove();
  });

  document.addEventListener("paste", (event) => {
    const form = composer();
    if (!form || !form.contains(event.target) || !event.clipboardData) return;
    const files = Array.from(event.clipboardData.files || []);
    if (files.length === 0) return; // text pastes as usual
    event.preventDefault();
    uploadAll(files);
  });

  document.addEventListener("dragover", (event) => {
    const form = composer();
    if (!form || !(event.target instanceof Node) || !form.contains(event.target)) return;
    if (!event.dataTransfer || !Array.from(event.dataTransfer.types).includes("Files")) return;
    event.preventDefault();
    form.classList.add("is-dropping");
  });

  document.addEventListener("dragleave", (event) => {
    const form = composer();
    if (form && event.target === form) form.classList.remove("is-dropping");
  });

  document.addEventListener("drop", (event) => {
    const form = composer();
    if (!form || !(event.target instanceof Node) || !form.contains(event.target) || !event.dataTransfer) return;
    event.preventDefault();
    form.classList.remove("is-dropping");
    uploadAll(Array.from(event.dataTransfer.files || []));
  });

  // A message waits for its files: sending while one is still uploading would leave it behind.
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || form.id !== "composer" || !form.querySelector(PENDING)) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      const pending = form.querySelector(PENDING + " .attachment-name");
      if (pending && !form.querySelector(".attachment-wait")) {
        const note = document.createElement("p");
        note.className = "attachment-wait field-error";
        note.setAttribute("role", "status");
        note.textContent = "Wait for the upload to finish, then send.";
        form.querySelector(".composer-files").append(note);
        setTimeout(() => note.remove(), 3000);
      }
    },
    true,
  );
})();
