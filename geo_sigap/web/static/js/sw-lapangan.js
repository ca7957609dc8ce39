/* GeoSIGAP field app service worker (scope /lapangan). Served by /lapangan-sw.js, which
 * fills in the cache name and the precache list. Reads only: writes are queued and sent
 * by the page itself (IndexedDB), never answered from here. */
"use strict";
const CACHE = __CACHE__;
const PRECACHE = __PRECACHE__;
const NET_TIMEOUT_MS = 4000;
// field API reads kept for offline use (the last good answer)
const KEEP = [/^\/api\/me\/assignments$/, /^\/api\/auth\/me$/, /^\/api\/incidents\/[^/]+\/route$/,
  /^\/api\/incidents\/[^/]+$/, /^\/api\/map\/(boundaries|roads)$/, /^\/api\/categories$/];

self.addEventListener("install", (ev) => {
  ev.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // one by one: a missing optional file must not stop the worker from installing
    await Promise.all(PRECACHE.map(async (url) => {
      try {
        const res = await fetch(url, { credentials: "same-origin", cache: "no-cache" });
        if (res.ok) await cache.put(url, res);
      } catch (e) { /* stored later, when the page asks for it */ }
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (ev) => {
  ev.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("sigap-lapangan-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}

/** Network first (bounded wait), the cached answer when the network fails; stores 200s. */
async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  const pending = fetch(request);
  try {
    const res = await withTimeout(pending, NET_TIMEOUT_MS);
    if (res.ok) await cache.put(key, res.clone());
    return res;
  } catch (e) {
    const hit = await cache.match(key, { ignoreVary: true });
    if (hit) {
      const headers = new Headers(hit.headers);
      headers.set("X-Sigap-Offline", "1");
      return new Response(await hit.blob(), { status: hit.status, headers });
    }
    return pending; // nothing stored: let the page see the real failure (or late answer)
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const res = await fetch(request);
  if (res.ok) await cache.put(request, res.clone());
  return res;
}

self.addEventListener("fetch", (ev) => {
  const req = ev.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === "/api/events") return; // the live stream is never cached
  if (req.mode === "navigate" && url.pathname === "/lapangan") {
    ev.respondWith(networkFirst(req, "/lapangan"));
  } else if (url.pathname.startsWith("/static/")) {
    ev.respondWith(cacheFirst(req));
  } else if (url.pathname === "/lapangan.webmanifest") {
    ev.respondWith(networkFirst(req, url.pathname));
  } else if (KEEP.some((re) => re.test(url.pathname))) {
    ev.respondWith(networkFirst(req, url.pathname + url.search));
  }
});

self.addEventListener("message", (ev) => {
  const msg = ev.data || {};
  if (msg.type === "cache" && Array.isArray(msg.urls)) {
    // the page asks to keep these reads (e.g. the routes of new assignments)
    ev.waitUntil((async () => {
      const cache = await caches.open(CACHE);
      for (const u of msg.urls) {
        try { const res = await fetch(u, { credentials: "same-origin" }); if (res.ok) await cache.put(u, res); }
        catch (e) { /* offline: next time */ }
      }
    })());
  }
});
