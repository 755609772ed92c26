/* The admin page's little script: copy buttons, and the template editor's live preview.
   Everything works without it; this only saves clicks. */
(function () {
  "use strict";

  function copyButtons() {
    document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = "Copy"; }, 1500);
        });
      });
    });
  }

  function csrf(form) {
    return form.querySelector("input[name=csrf_token]").value;
  }

  function element(tag, className, text) {
    var made = document.createElement(tag);
    if (className) { made.className = className; }
    if (text !== undefined) { made.textContent = text; }
    return made;
  }

  function showPreview(answer) {
    // Fixed places, filled in, so the preview does not jump around while one types.
    var failed = answer.problems.length > 0;
    var problems = document.getElementById("preview-problems");
    var list = problems.querySelector("ul");
    list.textContent = "";
    answer.problems.forEach(function (problem) { list.appendChild(element("li", "", problem)); });
    problems.hidden = !failed;
    document.getElementById("preview-result").hidden = failed;
    document.getElementById("preview-hint").hidden = true;
    if (failed) { return; }
    document.getElementById("preview-record").textContent = answer.record ? "For " + answer.record : "";
    document.getElementById("preview-subject").textContent = answer.subject;
    var old = document.getElementById("preview-html");
    var text = document.getElementById("preview-text");
    var html = answer.format === "html";
    // A fresh frame in the old one's place: Chromium does not show a new srcdoc set on a sandboxed
    // frame that already has a document.
    var frame = element("iframe");
    frame.id = old.id;
    frame.title = old.title;
    frame.setAttribute("sandbox", "");
    frame.hidden = !html;
    old.replaceWith(frame);
    text.hidden = html;
    if (html) { frame.srcdoc = answer.body; } else { text.textContent = answer.body; }
    var missing = document.getElementById("preview-missing");
    missing.hidden = answer.missing.length === 0;
    missing.textContent = answer.missing.length ? "Empty for this record: " + answer.missing.join(", ") +
      ". Sending would be refused until they are filled." : "";
  }

  function showVariables(variables) {
    var list = document.getElementById("variables");
    if (!list || !variables) { return; }
    list.textContent = "";
    variables.forEach(function (variable) {
      var item = element("li");
      item.appendChild(element("code", "", "{{ " + variable.path + " }}"));
      item.appendChild(document.createTextNode(" " + variable.label));
      list.appendChild(item);
    });
    document.getElementById("variable-count").textContent = String(variables.length);
  }

  function livePreview() {
    var form = document.getElementById("template-form");
    if (!form) { return; }
    var timer = null;
    var sent = 0;

    function preview() {
      var number = ++sent;
      fetch(form.getAttribute("data-preview-url"), {
        method: "POST",
        headers: { "Accept": "application/json", "X-CSRF-Token": csrf(form) },
        body: new FormData(form),
        credentials: "same-origin"
      }).then(function (response) {
        return response.json();
      }).then(function (answer) {
        if (number === sent) { showPreview(answer); }
      });
    }

    function soon() {
      clearTimeout(timer);
      timer = setTimeout(preview, 400);
    }

    function loadRecords() {
      var select = document.getElementById("t-record");
      var type = document.getElementById("t-record-type").value;
      var help = document.getElementById("t-record-help");
      select.textContent = "";
      var none = document.createElement("option");
      none.value = "";
      none.textContent = type ? "Choose a record" : "No record";
      select.appendChild(none);
      var url = form.getAttribute("data-records-url") + "?record_type=" + encodeURIComponent(type);
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          answer.records.forEach(function (record) {
            var option = document.createElement("option");
            option.value = record.id;
            option.textContent = record.title;
            select.appendChild(option);
          });
          if (answer.problem) { help.textContent = answer.problem; }
          showVariables(answer.variables);
          soon();
        });
    }

    ["t-subject", "t-body"].forEach(function (id) {
      document.getElementById(id).addEventListener("input", soon);
    });
    ["t-format", "t-record"].forEach(function (id) {
      document.getElementById(id).addEventListener("change", soon);
    });
    document.getElementById("t-record-type").addEventListener("change", loadRecords);
    document.getElementById("preview-button").addEventListener("click", function (event) {
      event.preventDefault();
      preview();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    copyButtons();
    livePreview();
  });
}());
