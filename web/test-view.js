/**
 * `window.bwlive`: a read-only view of a page's state for tests and curious operators.
 * The page's modules own the state; the view only reads it, through getters.
 */

/** @param {Record<string, () => unknown>} getters one per field shown */
export function exposeForTests(getters) {
  const view = {};
  for (const [name, get] of Object.entries(getters)) Object.defineProperty(view, name, { get, enumerable: true });
  Object.defineProperty(window, 'bwlive', { value: Object.freeze(view) });
}
