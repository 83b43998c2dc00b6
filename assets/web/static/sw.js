// Nông Sản service worker: the app opens offline, and what a farmer sends offline waits here.
// - Files under /static/ never change (their names carry a hash): served from the cache. Pages come from the
//   network and fall back to the last copy kept (a farmer's pages are kept as they are visited, and warmed).
// - A form that carries the field `offline` (a listing, an answer to an order) and cannot reach the server is
//   kept in IndexedDB with its idempotency key and sent again, once, when the page says the network is back:
//   the server gives a resend the first answer, so nothing is done twice.
// - At log-out the page asks to forget the kept pages and what waits.
"use strict";
const FILES = "nongsan-files-v1";
const PAGES = "nongsan-pages-v2";
const SHELL = ["/", "/farmer"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(PAGES).then((cache) => cache.addAll(SHELL)).catch(() => undefined));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  const kept = [FILES, PAGES];
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => !kept.includes(name)).map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

// The queue: one object store, items by their idempotency key.
const STORE = "queue";
const openQueue = () => new Promise((resolve, reject) => {
  const request = indexedDB.open("nongsan", 1);
  request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});
const inQueue = (mode, work) => openQueue().then((db) => new Promise((resolve, reject) => {
  const tx = db.transaction(STORE, mode);
  const request = work(tx.objectStore(STORE));
  tx.oncomplete = () => resolve(request && request.result);
  tx.onerror = () => reject(tx.error);
}));
const allItems = () => inQueue("readonly", (store) => store.getAll()).catch(() => []);

// What waits, for the pages to say so.
const status = () => allItems().then((items) => ({
  type: "queue",
  waiting: items.filter((item) => !item.failed).map(({ kind, label }) => ({ kind, label })),
  failed: items.filter((item) => item.failed).map(({ kind, label }) => ({ kind, label })),
}));
const tellAll = () => status().then((message) => self.clients.matchAll()
  .then((clients) => clients.forEach((client) => client.postMessage(message))));

const randomKey = () => "sw-" + Array.from(crypto.getRandomValues(new Uint32Array(4)), (n) => n.toString(16)).join("");

// A form that could not be sent: kept, then the page it came from (kept too) says it waits.
const keep = (request) => request.formData().then((form) => {
  if (!form.has("offline")) { return Response.error(); }
  const value = (name) => String(form.get(name) || "");
  const item = {
    key: value("idempotency_key") || randomKey(),
    url: request.url,
    kind: value("offline"),
    label: value("title") || value("sentence") || value("offline_label"),
    fields: Array.from(form.entries()),
    failed: false,
  };
  const back = request.referrer && new URL(request.referrer).origin === self.location.origin
    ? new URL(request.referrer).pathname : "/farmer";
  return inQueue("readwrite", (store) => store.put(item)).then(() => Response.redirect(back, 303));
});

// Sends what waits, one at a time, with the page's current CSRF token. Sent: gone from the queue. Refused by the
// server (a 4xx other than 401): kept as failed, for the page to show. No network, 401 or 5xx: tried again later.
let flushing = null;
const sendOne = (item, csrf) => {
  const fields = item.fields.map(([name, value]) => [name, name === "csrf_token" && csrf ? csrf : value]);
  fields.push(["queued", "1"]);
  let body = new URLSearchParams(fields.map(([name, value]) => [name, String(value)]));
  if (fields.some(([, value]) => value instanceof Blob)) {
    body = new FormData();
    fields.forEach(([name, value]) => body.append(name, value));
  }
  return fetch(item.url, { method: "POST", body, credentials: "same-origin", headers: { "Idempotency-Key": item.key } })
    .then((response) => {
      if (response.ok && response.redirected) { return inQueue("readwrite", (store) => store.delete(item.key)).then(() => true); }
      if (response.status === 401 || response.status >= 500) { return false; }
      item.failed = true;
      return inQueue("readwrite", (store) => store.put(item)).then(() => true);
    });
};
const flush = (csrf) => {
  if (!flushing) {
    flushing = allItems()
      .then((items) => items.filter((item) => !item.failed).reduce(
        (going, item) => going.then((on) => (on ? sendOne(item, csrf) : false)), Promise.resolve(true)))
      .catch(() => undefined)
      .then(() => { flushing = null; return tellAll(); });
  }
  return flushing;
};

// The farmer's pages are kept for offline use once they have been opened online at least once.
const warm = (urls) => caches.open(PAGES).then((cache) => Promise.all(urls.map((url) => cache.match(url)
  .then((hit) => hit || fetch(url, { credentials: "same-origin" })
    .then((response) => (response.ok && !response.redirected ? cache.put(url, response) : undefined))))))
  .catch(() => undefined);

self.addEventListener("message", (event) => {
  const message = event.data || {};
  const reply = () => status().then((answer) => event.source && event.source.postMessage(answer));
  if (message.type === "log-out") {
    event.waitUntil(Promise.all([caches.delete(PAGES), inQueue("readwrite", (store) => store.clear()).catch(() => undefined)]));
  } else if (message.type === "flush") {
    event.waitUntil(flush(message.csrf));
  } else if (message.type === "discard") {
    event.waitUntil(allItems()
      .then((items) => Promise.all(items.filter((item) => item.failed).map((item) => inQueue("readwrite", (store) => store.delete(item.key)))))
      .then(tellAll));
  } else if (message.type === "keep" && Array.isArray(message.urls)) {
    event.waitUntil(warm(message.urls.filter((url) => url.startsWith("/farmer"))));
  } else {
    event.waitUntil(reply());
  }
});

// A page kept offline is a new page each time: its forms get fresh idempotency keys, so two listings made from
// it are two listings, not one sent twice.
const freshKeys = (response) => response.text().then((html) => {
  // The text is decoded and its length changes: the kept page's other headers (its CSP among them) stay.
  const headers = new Headers(response.headers);
  ["content-length", "content-encoding"].forEach((name) => headers.delete(name));
  const fresh = html.replace(/name="idempotency_key" value="[^"]*"/g, () => 'name="idempotency_key" value="' + randomKey() + '"');
  return new Response(fresh, { status: response.status, headers });
});

// From the network, keeping a copy of a good answer in `cache`.
const fetchKeeping = (request, cache) => fetch(request).then((response) => {
  if (response.ok && !response.redirected) {
    const copy = response.clone();
    caches.open(cache).then((kept) => kept.put(request, copy));
  }
  return response;
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) {
    return;
  }
  if (request.method === "POST" && request.mode === "navigate") {
    const copy = request.clone();
    event.respondWith(fetch(request).catch(() => keep(copy)));
    return;
  }
  if (request.method !== "GET") {
    return;
  }
  if (url.pathname.startsWith("/static/") || url.pathname.startsWith("/media/")) {
    // Names that never change meaning: the copy kept, else the network.
    event.respondWith(caches.match(request).then((hit) => hit || fetchKeeping(request, FILES)));
  } else if (url.pathname === "/manifest.webmanifest" || url.pathname.startsWith("/icon-")) {
    event.respondWith(fetchKeeping(request, FILES).catch(() => caches.match(request).then((hit) => hit || Response.error())));
  } else if (request.mode === "navigate") {
    const fallback = url.pathname.startsWith("/farmer") ? "/farmer" : "/";
    event.respondWith(fetchKeeping(request, PAGES).catch(() => caches.match(request)
      .then((hit) => hit || caches.match(fallback))
      .then((hit) => (hit ? freshKeys(hit) : Response.error()))));
  }
});
