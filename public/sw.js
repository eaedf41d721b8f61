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

// Background Sync: requests the app handed over (src/courier.rs) go when the
// connection returns, even with every page closed. The app wrote each one
// whole, with the code that sends it from the page; this worker only posts
// them and keeps each definite answer for the app, which reads it with its
// own code when it next runs. Only a definite answer ends a letter: the
// server's JSON (a 200, a refusal for what the request holds, a refused
// token); anything else (no answer, a 5xx or a 429, a captive portal's page)
// leaves it for the browser's next try (it retries a failed sync event).
const COURIER_DB = 'beatbook-courier';
const LETTERS = 'letters';
const ANSWERS = 'answers';
const SYNC_TAG = 'beatbook-send';
const ANSWERS_READY = 'beatbook-answers';
// The answers that end a letter (the app reads each as the page would).
const FINAL = [200, 400, 401, 413];

self.addEventListener('sync', (event) => {
  if (event.tag === SYNC_TAG) event.waitUntil(sendLetters());
});

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function openCourier() {
  const open = indexedDB.open(COURIER_DB, 1);
  open.onupgradeneeded = () => {
    for (const name of [LETTERS, ANSWERS]) {
      if (!open.result.objectStoreNames.contains(name)) open.result.createObjectStore(name);
    }
  };
  return promised(open);
}

async function sendLetters() {
  const db = await openCourier();
  try {
    const letters = (await promised(db.transaction(LETTERS).objectStore(LETTERS).getAll()))
      .map((raw) => JSON.parse(raw));
    let answered = 0;
    let again = false;
    for (const listed of letters) {
      // Read again just before it goes: a letter the app has taken back
      // (its record deleted, or sent from the page) or replaced is not sent.
      const current = await promised(db.transaction(LETTERS).objectStore(LETTERS).get(listed.key));
      const letter = current && JSON.parse(current);
      if (!letter || letter.revision !== listed.revision) continue;
      let response;
      try {
        response = await fetch(letter.path, {
          method: 'POST', headers: letter.headers, body: letter.body, credentials: 'same-origin',
        });
      } catch {
        again = true;
        continue;
      }
      const body = await response.text();
      const json = (response.headers.get('content-type') ?? '').startsWith('application/json');
      if (!json || !FINAL.includes(response.status)) {
        again = true;
        continue;
      }
      // The answer is kept and the letter removed together, and only if the
      // letter is still the one sent (the page may have replaced or taken
      // it back meanwhile).
      const tx = db.transaction([LETTERS, ANSWERS], 'readwrite', { durability: 'strict' });
      const held = tx.objectStore(LETTERS).get(letter.key);
      held.onsuccess = () => {
        const now = held.result && JSON.parse(held.result);
        if (!now || now.revision !== letter.revision) return;
        tx.objectStore(ANSWERS).put(
          JSON.stringify({ key: letter.key, revision: letter.revision, status: response.status, body }),
          letter.key,
        );
        tx.objectStore(LETTERS).delete(letter.key);
        answered += 1;
      };
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    }
    if (answered > 0) {
      for (const client of await self.clients.matchAll({ includeUncontrolled: true })) {
        client.postMessage(ANSWERS_READY);
      }
    }
    // Rejecting asks the browser to fire the event again later.
    if (again) throw new Error('some requests are still waiting for the server');
  } finally {
    db.close();
  }
}

// Residents hear back (Web Push): the server sends each notification as
// core's `Notice` (`crates/core/src/report/notice.rs`), in the resident's
// words; the worker only shows it. One notification per report: a newer
// one replaces the last (its tag is the report's code).
self.addEventListener('push', (event) => {
  let notice;
  try {
    notice = event.data ? event.data.json() : null;
  } catch {
    notice = null;
  }
  if (!notice || typeof notice.title !== 'string') return;
  // Only this site's own pages: a report's, or (for a councillor) the inbox.
  const url = typeof notice.url === 'string' && (notice.url.startsWith('/reports/') || notice.url === '/inbox')
    ? notice.url : '/reports';
  event.waitUntil(self.registration.showNotification(notice.title, {
    body: notice.body ?? '',
    tag: `report-${notice.code ?? ''}`,
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
    data: { url, code: notice.code },
  }));
});

// A tap opens the report's page: in a window Beatbook already has, or a
// new one. The page fetches the fresh status, and keeps it for offline.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL(event.notification.data?.url ?? '/reports', self.location.origin).href;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    for (const client of windows) {
      if (new URL(client.url).origin !== self.location.origin) continue;
      try {
        const focused = await client.focus();
        if (focused.url !== url) await focused.navigate(url);
        return;
      } catch {
        // A window this worker does not control cannot be sent elsewhere.
      }
    }
    await self.clients.openWindow(url);
  })());
});
