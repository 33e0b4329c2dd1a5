// The pages' service worker: after one online visit the resident and checkpoint pages open with no
// network. It keeps the pages' own files (never the API's answers: a colour is the API's to say) and
// answers them network-first with a short timeout, so an edited page shows at once online and the last
// copy shows offline. Hand-written rather than Workbox: one cache, one strategy, no build step.
const CACHE = "hc-pages-v1";
const FILES = [
  "resident.html", "checkpoint.html", "index.html", "app.css", "config.json", "manifest.webmanifest",
  "js/common.js", "js/resident.js", "js/checkpoint.js", "js/jws.js", "vendor/jsQR.js",
  "i18n/zh-CN.json", "i18n/en.json", "icons/icon.svg",
];
const TIMEOUT_MS = 3000;
const scope = new URL(self.registration.scope);
const ours = new Set(FILES.map((f) => new URL(f, scope).pathname));

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k)))).then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== scope.origin) return;
  const path = url.pathname === scope.pathname ? `${scope.pathname}index.html` : url.pathname;
  if (!ours.has(path)) return; // the API and anything else: straight to the network
  event.respondWith(networkFirst(event.request, path));
});

async function networkFirst(request, path) {
  const cache = await caches.open(CACHE);
  try {
    const answer = await Promise.race([
      fetch(request.url, { cache: "no-cache", credentials: "same-origin" }), // (a navigation's Request cannot be re-made with options)
      new Promise((_, fail) => setTimeout(() => fail(new Error("timeout")), TIMEOUT_MS)),
    ]);
    if (answer.ok) await cache.put(path, answer.clone());
    return answer;
  } catch {
    const kept = await cache.match(path);
    if (kept) return kept;
    throw new Error("offline and never visited");
  }
}
