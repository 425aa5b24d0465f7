/**
 * The phone camera's service worker: what makes camera.html installable. It caches
 * nothing and answers nothing itself (every request goes to the network, so the code a
 * phone runs is always the server's current one, as for the console).
 */
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', () => {});
