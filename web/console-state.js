/**
 * The live page's state, filled by app.js and read by the page's modules; tests see it
 * through `window.bwlive` (test-view.js).
 */
export const state = {
  /** @type {Promise<void> | null} resolves once the keys are loaded */
  ready: null,
  /** @type {import('./keystore.js').KeyRecord[]} */
  keys: [],
  /** @type {import('./session.js').Session | null} */
  session: null,
  /** @type {import('./streams.js').Stream[]} the active streams, as last pushed */
  streams: [],
  /** @type {import('./clock.js').ClockCheck | null} this computer's clock against the server's */
  clock: null,
  /** @type {Record<string, import('./tile.js').Position>} stream id → its camera's last fix on a tile */
  lastPositions: {},
};
