// Volley console: the events page's live tail. Progressive enhancement:
// without this script (or EventSource) the page keeps its Refresh link.
// Every field of an event goes into the page as text (textContent), never
// as markup: the server sends data, not HTML.
"use strict";

(function () {
  var maxRows = 200;

  function cell(tr, child) {
    var td = document.createElement("td");
    td.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    tr.appendChild(td);
  }

  function row(e) {
    var tr = document.createElement("tr");
    tr.className = "new";
    tr.dataset.event = e.event_id;
    var a = document.createElement("a");
    a.href = e.url;
    var code = document.createElement("code");
    code.textContent = e.event_id;
    a.appendChild(code);
    cell(tr, a);
    cell(tr, e.source);
    cell(tr, e.method);
    var badge = document.createElement("span");
    badge.className = "badge " + String(e.status).replace(/[^a-z]/g, "");
    badge.textContent = e.status;
    cell(tr, badge);
    var t = document.createElement("time");
    t.setAttribute("datetime", e.created_at);
    t.title = e.created;
    t.textContent = e.created;
    cell(tr, t);
    return tr;
  }

  function tail() {
    var status = document.getElementById("tail");
    var body = document.querySelector("#events tbody");
    if (!status || !body || !window.EventSource) {
      return;
    }
    var src = new EventSource(status.dataset.tail);
    src.addEventListener("ready", function () {
      status.hidden = false;
      status.textContent = "Live: new events appear at the top.";
    });
    src.addEventListener("event", function (m) {
      var e;
      try {
        e = JSON.parse(m.data);
      } catch (err) {
        return;
      }
      // The page may already list it: the tail starts where the list was
      // read, and the two overlap by the events committed in between.
      if (body.querySelector('tr[data-event="' + CSS.escape(String(e.event_id)) + '"]')) {
        return;
      }
      var tr = row(e);
      body.insertBefore(tr, body.firstChild);
      while (body.rows.length > maxRows) {
        body.deleteRow(body.rows.length - 1);
      }
      var empty = document.getElementById("events-empty");
      if (empty) {
        empty.remove();
      }
      if (window.volleyEnhance) {
        window.volleyEnhance(tr);
      }
    });
    src.addEventListener("error", function () {
      // EventSource reconnects by itself, resuming after the last event.
      status.hidden = false;
      status.textContent = "Live tail interrupted; reconnecting…";
    });
  }

  document.addEventListener("DOMContentLoaded", tail);
})();
