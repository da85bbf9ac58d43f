// Capture on the invoice add page (issue 12), under the strict CSP: no inline script.
// A USB scanner types the QR payload into [data-capture-payload] and presses Enter: the
// Enter reads the payload (it never submits the half-filled form). A file chosen in
// [data-capture-file] is read the same way. The endpoint runs the server's reader and
// answers the fields; they are filled for the user to confirm with the normal save.
"use strict";
(function () {
  var box = document.getElementById("invoice-capture");
  if (!box) {
    return;
  }
  var url = box.getAttribute("data-capture-url");
  var payload = document.querySelector("[data-capture-payload]");
  var fileInput = document.querySelector("[data-capture-file]");
  var token = document.querySelector("[data-capture-token]");
  var form = (payload || fileInput).form;
  var status = document.getElementById("capture-status");
  var suggestion = document.getElementById("capture-suggestion");

  function say(parent, lines, className) {
    parent.textContent = "";
    lines.forEach(function (line) {
      var p = document.createElement("p");
      p.className = className;
      p.textContent = line;
      parent.appendChild(p);
    });
  }

  function fill(fields) {
    Object.keys(fields).forEach(function (name) {
      var element = form.elements[name];
      if (element && fields[name] !== "") {
        element.value = fields[name];
        element.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  function show(answer) {
    suggestion.textContent = "";
    if (!answer.ok) {
      token.value = "";
      say(status, answer.errors, "capture-error errornote");
      return;
    }
    fill(answer.fields);
    token.value = answer.token || "";
    var lines = ["已读取" + answer.source + "中的发票 " + answer.fields.number + ",请核对后保存。"];
    if (answer.sha256) {
      lines.push("原件 SHA-256:" + answer.sha256);
    }
    say(status, lines, "capture-ok");
    answer.notes.forEach(function (note) {
      var p = document.createElement("p");
      p.className = "capture-error errornote";
      p.textContent = note;
      status.appendChild(p);
    });
    if (answer.suggestion) {
      var p = document.createElement("p");
      p.textContent = "建议:" + answer.suggestion.text + " ";
      if (answer.suggestion.line) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button";
        button.setAttribute("data-capture-suggest", answer.suggestion.line);
        button.textContent = "采用建议的预算明细";
        p.appendChild(button);
      }
      suggestion.appendChild(p);
    }
  }

  function send(body) {
    var csrf = form.elements.csrfmiddlewaretoken.value;
    var project = form.elements.project;
    body.append("project", project ? project.value : "");
    say(status, ["正在读取……"], "capture-wait");
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf },
    })
      .then(function (response) {
        return response.json();
      })
      .then(show)
      .catch(function () {
        say(status, ["读取失败,请重试或手工录入。"], "capture-error errornote");
      });
  }

  if (payload) {
    payload.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") {
        return;
      }
      event.preventDefault();
      var body = new FormData();
      body.append("payload", payload.value);
      send(body);
    });
  }
  if (fileInput) {
    fileInput.addEventListener("change", function () {
      if (!fileInput.files.length) {
        return;
      }
      var body = new FormData();
      body.append("file", fileInput.files[0]);
      send(body);
      // The file waits on the server (the token); it is not uploaded a second time.
      fileInput.value = "";
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-capture-suggest]");
    if (button && form.elements.budget_line) {
      form.elements.budget_line.value = button.getAttribute("data-capture-suggest");
    }
  });
})();
