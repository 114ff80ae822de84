/**
 * The page's service worker: keeps a copy of the page's own files so that, once
 * loaded, it opens and works without a network. Network first — online, every
 * file comes fresh from the host and its copy is renewed; a request the network
 * fails is answered from the copy. Requests for other origins (there are none)
 * and other methods pass by untouched.
 */

/** The page's files, listed by scripts/build-app.js (which knows what it built). */
declare const APP_FILES: readonly string[];

/** One cache for the page: a build's files replace the last one's, name by name. */
const CACHE = "coreml-quantize-app";

/** The events this script uses of a service worker's global scope (the DOM lib has no worker types). */
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}
interface ServiceWorkerScope {
  addEventListener(type: "install" | "activate", listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: "fetch", listener: (event: FetchEvent) => void): void;
  skipWaiting(): Promise<void>;
  readonly clients: { claim(): Promise<void> };
  readonly location: Location;
}

const scope = globalThis as unknown as ServiceWorkerScope;

scope.addEventListener("install", (event) => {
  // Copy every file now, so the page works offline after its first visit, even
  // if it never asked for some file yet.
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(APP_FILES))
      .then(() => scope.skipWaiting()),
  );
});

scope.addEventListener("activate", (event) => {
  event.waitUntil(scope.clients.claim());
});

scope.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET" || new URL(request.url).origin !== scope.location.origin) return;
  event.respondWith(fetchAndKeep(request));
});

/** The network's answer, copied into the cache; the cached copy when the network fails. */
async function fetchAndKeep(request: Request): Promise<Response> {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(request, { ignoreSearch: true });
    if (kept !== undefined) return kept;
    throw error;
  }
}
