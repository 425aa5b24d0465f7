/**
 * Starting a module worker from this page's modules, wherever they are served from. A
 * page may only start workers of its own origin, so a module served by another origin
 * (the embedded player's, web/player/) is started through a `blob:` module of the page's
 * origin that imports it (the server sends the web client's modules with CORS).
 */

/**
 * @param {URL} url the worker's module
 * @returns {Worker}
 */
export function moduleWorker(url) {
  if (url.origin === location.origin) return new Worker(url, { type: 'module' });
  const loader = URL.createObjectURL(new Blob([`import ${JSON.stringify(url.href)};`], { type: 'text/javascript' }));
  try {
    return new Worker(loader, { type: 'module' });
  } finally {
    URL.revokeObjectURL(loader); // the worker resolved it when it was made
  }
}
