// Volley console: progressive enhancement only. Every page works without
// this file; with it, times show in the viewer's time zone, copy buttons
// copy, and menus close on Escape.
"use strict";

(function () {
  // <time datetime="…Z" title="… UTC">… UTC</time>: show local time, keep
  // UTC in the title for hover.
  function localTimes(root) {
    var fmt;
    try {
      fmt = new Intl.DateTimeFormat(undefined, {
        year: "numeric", month: "short", day: "numeric",
        hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short"
      });
    } catch (e) {
      return;
    }
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d.getTime()) && !el.dataset.local) {
        el.textContent = fmt.format(d);
        el.dataset.local = "1";
      }
    });
  }

  // <button type="button" class="copy" data-copy="value" hidden>: shown
  // only where the clipboard works.
  function copyButtons(root) {
    if (!navigator.clipboard) {
      return;
    }
    root.querySelectorAll("button.copy[data-copy]").forEach(function (b) {
      b.hidden = false;
      b.addEventListener("click", function () {
        navigator.clipboard.writeText(b.dataset.copy).then(function () {
          var label = b.textContent;
          b.textContent = "Copied";
          setTimeout(function () { b.textContent = label; }, 1500);
        });
      });
    });
  }

  // Escape closes an open switcher and gives focus back to its summary; a
  // click elsewhere closes it too.
  function menus() {
    document.addEventListener("click", function (e) {
      document.querySelectorAll("details.switcher[open]").forEach(function (d) {
        if (!d.contains(e.target)) {
          d.open = false;
        }
      });
    });
    document.addEventListener("keydown", function (e) {
      if (e.key !== "Escape") {
        return;
      }
      document.querySelectorAll("details.switcher[open]").forEach(function (d) {
        d.open = false;
        d.querySelector("summary").focus();
      });
    });
  }

  // <form data-confirm="Really?">: ask before a destructive POST.
  function confirms(root) {
    root.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (e) {
        if (!window.confirm(f.dataset.confirm)) {
          e.preventDefault();
        }
      });
    });
  }

  function enhance(root) {
    localTimes(root);
    copyButtons(root);
    confirms(root);
  }

  // Other scripts (the live tail) call this on the rows they add.
  window.volleyEnhance = enhance;

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    menus();
  });
})();
