// Beatbook's service worker: the whole app from one versioned cache, so it
// starts with no network at all and never mixes two versions.
//
// The build (`cargo xtask finish-build`, run by Trunk after every build)
// rewrites the next two lines with the build's version and the list of its
// files. Left as they are, the worker caches nothing and passes everything on.
const VERSION = 'dev';
const PRECACHE = [];

const CACHE_PREFIX = 'beatbook-app-';
const CACHE = CACHE_PREFIX + VERSION;
const SHELL = '/index.html';

self.addEventListener('install', (event) => {
  // Hashed files come from the HTTP cache when the page has just fetched
  // them (they never change), so a first visit downloads nothing twice; the
  // rest are revalidated (the server sends them with no-cache).
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)));
  // A first install takes over at once; an update waits until the page asks,
  // so a note being typed is never cut off by a reload it did not choose.
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names
      .filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE)
      .map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data === 'skip-waiting') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  // The API is never answered from a cache: sync must see the real server.
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/')) return;
  if (PRECACHE.length === 0) return;

  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    // Every navigation gets this version's page, which names this version's
    // hashed files, which are in this same cache: one version, whole.
    const cached = request.mode === 'navigate'
      ? await cache.match(SHELL)
      : await cache.match(request);
    return cached || fetch(request);
  })());
});
