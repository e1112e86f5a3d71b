/* Baken's own script: upload with progress bars, and small chat conveniences. No inline script (CSP). */
(function () {
  "use strict";

  function csrfToken() {
    var headers = document.body.getAttribute("hx-headers");
    try { return JSON.parse(headers)["X-CSRF-Token"]; } catch (e) { return ""; }
  }

  function uploadOne(form, file, list) {
    var item = document.createElement("li");
    var label = document.createElement("span");
    label.textContent = file.name + " ";
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", file.name);
    var status = document.createElement("span");
    item.appendChild(label); item.appendChild(bar); item.appendChild(status);
    list.appendChild(item);
    var max = parseInt(form.dataset.maxBytes, 10);
    if (file.size > max) {
      bar.remove();
      status.textContent = form.dataset.tooLarge;
      status.className = "error";
      return Promise.resolve();
    }
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open("PUT", "/documents/upload");
      xhr.setRequestHeader("X-CSRF-Token", csrfToken());
      xhr.setRequestHeader("X-File-Name", encodeURIComponent(file.name));
      var collection = form.querySelector("select[name=collection]");
      if (collection) { xhr.setRequestHeader("X-Collection", collection.value); }
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); }
      };
      xhr.onload = function () {
        var message = "";
        try { message = JSON.parse(xhr.responseText).message || ""; } catch (e) { message = ""; }
        if (xhr.status >= 200 && xhr.status < 300) {
          bar.value = 100;
          status.textContent = " " + (message || form.dataset.sent);
        } else {
          status.textContent = " " + (message || form.dataset.failed);
          status.className = "error";
        }
        resolve();
      };
      xhr.onerror = function () {
        status.textContent = " " + form.dataset.failed;
        status.className = "error";
        resolve();
      };
      xhr.send(file);
    });
  }

  function setUpUpload() {
    var form = document.getElementById("upload-form");
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = document.getElementById("files");
      var list = document.getElementById("upload-progress");
      var files = Array.prototype.slice.call(input.files);
      list.textContent = "";
      Promise.all(files.map(function (f) { return uploadOne(form, f, list); })).then(function () {
        input.value = "";
        if (window.htmx) { window.htmx.trigger("#jobs", "refresh"); }
      });
      if (window.htmx) { window.htmx.trigger("#jobs", "refresh"); }
    });
  }

  function setUpChat() {
    var form = document.getElementById("ask-form");
    if (!form) { return; }
    var question = document.getElementById("question");
    var alert = document.getElementById("ask-error");
    // A refused question (too long, too many waiting) says why in the form's alert; the question stays in the box.
    form.addEventListener("htmx:afterRequest", function (event) {
      var status = event.detail.xhr ? event.detail.xhr.status : 0;
      if (event.detail.successful) {
        question.value = ""; question.focus();
        if (alert) { alert.textContent = ""; }
      } else if (alert && (status === 400 || status === 429)) {
        alert.textContent = event.detail.xhr.responseText;
      }
    });
    question.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        if (question.value.trim()) { form.requestSubmit(); }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpUpload();
    setUpChat();
  });
})();
