/* Check-in flow, enhanced. Without this file every answer is a plain form POST and
   the flow works the same. With it, an answer is sent with fetch; if the network
   drops, the answer is kept here in page memory (never in browser storage), sent
   again when the connection comes back, and the patient is told plainly. */
(function () {
  "use strict";
  var RETRY_MS = 4000;

  function init(root) {
    var form = root.querySelector("[data-checkin-form]");
    var status = root.querySelector("[data-checkin-status]");
    if (!form || !window.fetch || !window.FormData) return;
    var pending = null; // the one answer waiting to be sent (the latest tap wins)
    var timer = null;
    var sending = false;

    function say(text) {
      status.textContent = text;
      status.hidden = !text;
    }

    function schedule() {
      if (timer) window.clearTimeout(timer);
      timer = window.setTimeout(send, RETRY_MS);
    }

    function send() {
      if (!pending || sending) return;
      sending = true;
      var body = pending;
      window.fetch(form.getAttribute("action") || window.location.href, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-Tether-Fetch": "1" }
      }).then(function (response) {
        sending = false;
        if (response.status === 400) {
          pending = null;
          return response.json().then(function (data) { say(data.error || ""); });
        }
        if (!response.ok) {
          // Signed out, or the server refused: let the server's own page explain.
          if (response.status === 403 || response.status === 404) { pending = null; form.submit(); return; }
          throw new Error("status " + response.status);
        }
        return response.json().then(function (data) {
          if (body !== pending) { send(); return; } // a newer answer arrived meanwhile
          pending = null;
          if (data.next) window.location.assign(data.next);
        });
      }).catch(function () {
        sending = false;
        say(root.getAttribute("data-offline-message") ||
          "We could not send your answer. It is kept on this page and we will keep trying. Please leave this page open.");
        schedule();
      });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      var button = event.submitter;
      if (button && button.name) data.set(button.name, button.value);
      pending = data;
      var buttons = form.querySelectorAll("button");
      for (var i = 0; i < buttons.length; i++) buttons[i].removeAttribute("aria-busy");
      if (button) button.setAttribute("aria-busy", "true");
      send();
    });

    window.addEventListener("online", send);
    window.addEventListener("beforeunload", function (event) {
      if (pending) { event.preventDefault(); event.returnValue = ""; }
    });
  }

  var roots = document.querySelectorAll("[data-checkin]");
  for (var i = 0; i < roots.length; i++) init(roots[i]);
})();
