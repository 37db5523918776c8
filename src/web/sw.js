// token-api's service worker (a template: scripts/build-web.ts fills in the cache's version,
// a hash of the shell's file names, and the list of those files). The shell is cached at install; the page
// itself comes from the network first and from the cache when offline; hashed files (and lazy
// chunks, once loaded) from the cache first. /api and /ws always go to the network: live data
// is never answered from a cache (the page keeps its own last known state, marked stale).
const CACHE = 'shell-__VERSION__';
const SHELL = __SHELL__;

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== location.origin || !url.pathname.startsWith('/app/')) return;
  if (e.request.mode === 'navigate') {
    e.respondWith(
      fetch(e.request)
        .then((r) => {
          if (r.ok) {
            const copy = r.clone();
            caches.open(CACHE).then((c) => c.put('/app/', copy));
          }
          return r;
        })
        .catch(() => caches.match('/app/').then((hit) => hit || Response.error())),
    );
    return;
  }
  e.respondWith(
    caches.match(e.request).then(
      (hit) =>
        hit ||
        fetch(e.request).then((r) => {
          if (r.ok && /-[A-Z0-9]{8}\.(js|css)$/.test(url.pathname)) {
            const copy = r.clone();
            caches.open(CACHE).then((c) => c.put(e.request, copy));
          }
          return r;
        }),
    ),
  );
});
