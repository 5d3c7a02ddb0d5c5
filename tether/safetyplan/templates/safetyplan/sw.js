/* Tether service worker. Caches nothing until the patient opts in on the
   safety-plan page; then keeps only the offline copy of the safety plan,
   the crisis page and the stylesheet (see tether/safetyplan/pwa.py). */
"use strict";

const CACHE = "{{ cache_name }}";
const OFFLINE_COPY = "{{ offline_copy_url }}";
const CRISIS = "{{ crisis_url }}";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

async function keep(urls) {
  const cache = await caches.open(CACHE);
  for (const url of urls) {
    const response = await fetch(url, { credentials: "same-origin", redirect: "error" });
    if (!response.ok) throw new Error("Could not fetch " + url);
    await cache.put(url, response);
  }
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  const reply = (ok) => event.source && event.source.postMessage({ type: data.type, ok: ok });
  if (data.type === "keep") {
    const urls = [OFFLINE_COPY, CRISIS].concat(
      (data.extra || []).filter((u) => typeof u === "string" && u.startsWith("/static/"))
    );
    event.waitUntil(
      keep(urls).then(() => reply(true), () => caches.delete(CACHE).then(() => reply(false)))
    );
  } else if (data.type === "remove") {
    event.waitUntil(caches.delete(CACHE).then(() => reply(true), () => reply(false)));
  }
});

async function fromCache(request) {
  if (!(await caches.has(CACHE))) return null;
  const cache = await caches.open(CACHE);
  const url = new URL(request.url);
  if (request.mode === "navigate") {
    if (url.pathname === CRISIS) return cache.match(CRISIS);
    // Offline, every page of Tether opens the kept safety plan.
    return cache.match(OFFLINE_COPY);
  }
  return cache.match(url.pathname);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode !== "navigate" && !url.pathname.startsWith("/static/")) return;
  event.respondWith(
    fetch(request).catch(async (error) => {
      const cached = await fromCache(request);
      if (cached) return cached;
      throw error;
    })
  );
});

// Web Push (tether/outreach, docs/OUTREACH.md): the payload carries only a neutral
// title, a lock-screen-safe sentence and a same-origin link that still needs sign-in.
self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = {};
  }
  const title = typeof data.title === "string" ? data.title : "Tether";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: typeof data.body === "string" ? data.body : "",
      data: { url: typeof data.url === "string" ? data.url : "/me/" },
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL(event.notification.data && event.notification.data.url || "/me/", self.location.origin);
  if (target.origin !== self.location.origin) return;
  event.waitUntil(self.clients.openWindow(target.pathname));
});
