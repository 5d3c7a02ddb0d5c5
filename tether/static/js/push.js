/* Web Push on the Reminders page (progressive enhancement; docs/OUTREACH.md).
   Nothing is asked until the patient taps "Turn on notifications on this phone": then
   the browser asks for permission, the service worker (safety_plan:service_worker, which
   shows the notification) subscribes with the server's VAPID key, and the subscription
   is posted to /me/reminders/push/. "Turn off" tells the server first, then the browser. */
(function () {
  "use strict";
  var panel = document.getElementById("push-panel");
  if (!panel) return;
  var status = panel.querySelector("[data-push-status]");
  var onWrap = panel.querySelector("[data-push-on]");
  var offWrap = panel.querySelector("[data-push-off]");
  var form = panel.querySelector("[data-push-form]");
  var key = panel.getAttribute("data-vapid-key");
  function text(name) { return panel.getAttribute("data-text-" + name) || ""; }

  function show(subscribed, message) {
    onWrap.hidden = subscribed;
    offWrap.hidden = !subscribed;
    status.textContent = message || text(subscribed ? "on" : "off");
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    status.textContent = text("unsupported");
    return;
  }
  if (!key) {
    status.textContent = text("not-set-up");
    return;
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4))
      .replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function registration() {
    return navigator.serviceWorker
      .register(panel.getAttribute("data-sw-url"), { scope: "/" })
      .then(function () { return navigator.serviceWorker.ready; });
  }

  function tell(fields) {
    var body = new FormData(form);
    Object.keys(fields).forEach(function (name) { body.append(name, fields[name]); });
    return fetch(panel.getAttribute("data-push-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (!response.ok) throw new Error("push " + response.status);
    });
  }

  function fields(subscription, action) {
    var json = subscription.toJSON();
    var keys = json.keys || {};
    return {
      action: action,
      endpoint: subscription.endpoint,
      p256dh: keys.p256dh || "",
      auth: keys.auth || ""
    };
  }

  function turnOn() {
    show(false, text("working"));
    Notification.requestPermission()
      .then(function (permission) {
        if (permission !== "granted") {
          show(false, text("denied"));
          return null;
        }
        return registration()
          .then(function (reg) {
            return reg.pushManager.subscribe({
              userVisibleOnly: true,
              applicationServerKey: keyBytes(key)
            });
          })
          .then(function (subscription) { return tell(fields(subscription, "subscribe")); })
          .then(function () { show(true); });
      })
      .catch(function () { show(false, text("failed")); });
  }

  function turnOff() {
    show(true, text("working"));
    registration()
      .then(function (reg) { return reg.pushManager.getSubscription(); })
      .then(function (subscription) {
        if (!subscription) return null;
        return tell(fields(subscription, "unsubscribe")).then(function () {
          return subscription.unsubscribe();
        });
      })
      .then(function () { show(false); })
      .catch(function () { show(true, text("failed")); });
  }

  onWrap.querySelector("button").addEventListener("click", turnOn);
  offWrap.querySelector("button").addEventListener("click", turnOff);

  // What this phone has now (without asking for anything).
  navigator.serviceWorker.getRegistration("/")
    .then(function (reg) { return reg ? reg.pushManager.getSubscription() : null; })
    .then(function (subscription) { show(Boolean(subscription)); })
    .catch(function () { show(false); });
})();
