/* Opt-in offline copy of the safety plan (progressive enhancement).
   Nothing is kept on the phone until the patient taps "Keep my safety plan on
   this phone". Signing out removes it (here, and by the Clear-Site-Data header). */
(function () {
  "use strict";
  var CACHE = "tether-offline-v1";
  var supported = "serviceWorker" in navigator && "caches" in window;

  function clearCopy() {
    if (!("caches" in window)) return Promise.resolve();
    return caches.delete(CACHE).catch(function () {});
  }

  // Sign-out forms on every page: remove the copy before leaving.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form && form.getAttribute && /\/sign-out\/?$/.test(form.getAttribute("action") || "")) {
      clearCopy();
    }
  });

  var section = document.querySelector("[data-offline-url]");
  if (!section) return;
  var status = section.querySelector("[data-offline-status]");
  // The buttons sit in spans so that "hidden" works whatever the button styles say.
  var keepWrap = section.querySelector("[data-offline-keep]");
  var removeWrap = section.querySelector("[data-offline-remove]");
  var keepButton = keepWrap.querySelector("button");
  var removeButton = removeWrap.querySelector("button");
  var text = {
    unsupported: section.getAttribute("data-text-unsupported"),
    kept: section.getAttribute("data-text-kept"),
    notKept: section.getAttribute("data-text-not-kept"),
    working: section.getAttribute("data-text-working"),
    failed: section.getAttribute("data-text-failed"),
    removed: section.getAttribute("data-text-removed")
  };

  function show(kept, message) {
    keepWrap.hidden = kept;
    removeWrap.hidden = !kept;
    // Not kept: the button itself says what it offers (no extra line on a small screen).
    status.textContent = message || (kept ? text.kept : "");
  }

  if (!supported) {
    status.textContent = text.unsupported;
    return;
  }

  function worker() {
    return navigator.serviceWorker
      .register(section.getAttribute("data-sw-url"), { scope: "/" })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) { return registration.active; });
  }

  function ask(type) {
    return worker().then(function (active) {
      return new Promise(function (resolve) {
        function onMessage(event) {
          if (event.data && event.data.type === type) {
            navigator.serviceWorker.removeEventListener("message", onMessage);
            resolve(Boolean(event.data.ok));
          }
        }
        navigator.serviceWorker.addEventListener("message", onMessage);
        var styles = Array.prototype.map.call(
          document.querySelectorAll("link[rel=stylesheet]"),
          function (link) { return new URL(link.href).pathname; }
        );
        active.postMessage({ type: type, extra: styles });
      });
    });
  }

  function keep(refreshOnly) {
    if (!refreshOnly) show(false, text.working);
    return ask("keep").then(function (ok) {
      show(ok, ok ? text.kept : text.failed);
      section.setAttribute("data-offline-state", ok ? "kept" : "failed");
    });
  }

  keepButton.addEventListener("click", function () { keep(false); });
  removeButton.addEventListener("click", function () {
    ask("remove").then(function () {
      return clearCopy();
    }).then(function () {
      show(false, text.removed);
      section.setAttribute("data-offline-state", "removed");
    });
  });

  caches.has(CACHE).then(function (kept) {
    if (kept) {
      // Already kept: refresh the copy so it matches the plan on this page.
      show(true);
      keep(true);
    } else {
      show(false);
      section.setAttribute("data-offline-state", "not-kept");
    }
  });
})();
