// The field app's service worker: the app shell (its page, scripts, styles, icons) is
// cached at install and served from the cache, so the app opens with no signal. The API
// is never cached nor intercepted: records live in IndexedDB, and a phone's calls must
// reach the server or fail visibly.
/* global __SHELL__, __VERSION__ */
const CACHE = `mingcha-field-${__VERSION__}`;
const SHELL = __SHELL__;

self.addEventListener("install", (event) => {
  // `reload`: fetched from the server, not from the HTTP cache of an older build.
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names
      .filter((name) => name.startsWith("mingcha-field-") && name !== CACHE)
      .map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith("/field/")) return;
  // Every page of the app is the one shell; it routes by the URL's #fragment.
  const key = request.mode === "navigate" ? "/field/" : url.pathname;
  if (!SHELL.includes(key)) return;
  event.respondWith(caches.open(CACHE).then((cache) => cache.match(key))
    .then((hit) => hit || fetch(request)));
});
