// Volley console: the test panes of the transformation page and the
// connection form. Progressive enhancement: without this script, "Run
// test" posts the form and the page comes back with the outcome. With it,
// the same form is posted in the background and the outcome (#test-result
// of the page the server answers) replaces the one shown, without a
// reload. The server renders and escapes the outcome; the script moves
// parsed nodes, and a parsed document runs no script.
"use strict";

(function () {
  function run(form, button) {
    var result = document.getElementById("test-result");
    if (!result || !window.fetch || !window.DOMParser) {
      return false;
    }
    var body = new URLSearchParams(new FormData(form, button));
    // formAction is the page's own URL when the button has no formaction.
    var action = (button.hasAttribute("formaction") ? button.formAction : form.action).split("#")[0];
    // plain posts the form as if there were no script.
    function plain() {
      button.disabled = false;
      form.dataset.plain = "1";
      form.requestSubmit(button);
    }
    result.setAttribute("aria-busy", "true");
    button.disabled = true;
    fetch(action, { method: "POST", body: body, credentials: "same-origin", redirect: "follow" })
      .then(function (res) { return res.text(); })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        var fresh = doc.getElementById("test-result");
        if (!fresh) {
          // Not the page with an outcome (signed out, refused): let the
          // browser post the form and show whatever the server says.
          plain();
          return;
        }
        result.replaceWith(document.importNode(fresh, true));
        if (window.volleyEnhance) {
          window.volleyEnhance(document.getElementById("test-result"));
        }
      })
      .catch(plain)
      .finally(function () {
        button.disabled = false;
        var r = document.getElementById("test-result");
        if (r) {
          r.removeAttribute("aria-busy");
        }
      });
    return true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button[data-run-test]").forEach(function (button) {
      button.addEventListener("click", function (e) {
        var form = button.form;
        if (!form || form.dataset.plain === "1") {
          return;
        }
        if (run(form, button)) {
          e.preventDefault();
        }
      });
    });
  });
})();
