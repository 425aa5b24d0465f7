/**
 * How every page that needs keys starts: take in a link with key from the address
 * (asking for the passphrase of a protected one), then list the keys this browser holds.
 */
import { NO_KEY_MESSAGE } from './content-key.js';
import { el } from './dom.js';
import { importFromLocationHash, listKeys } from './keystore.js';
import { askPassphrase, closePassphrase } from './passphrase.js';

/** @typedef {import('./keystore.js').KeyRecord} KeyRecord */

/**
 * @returns {Promise<{keys: KeyRecord[], problem: string | null}>} the keys held, oldest
 *   first, and what the operator must be told about them (null: nothing)
 */
export async function loadKeys() {
  let problem = null;
  try {
    await importFromLocationHash({ askPassphrase });
  } catch (error) {
    problem = `The key in this link could not be used: ${error.message}.`;
  } finally {
    closePassphrase();
  }
  let keys = [];
  try {
    keys = await listKeys();
  } catch {
    problem = 'This browser cannot store keys (IndexedDB is unavailable).';
  }
  return { keys, problem: problem ?? (keys.length === 0 ? NO_KEY_MESSAGE : null) };
}

/**
 * The held keys' thumbprints in the top bar (hidden when there are none).
 * @param {HTMLElement} container `#keys`
 * @param {KeyRecord[]} keys
 */
export function showThumbprints(container, keys) {
  container.replaceChildren(
    ...keys.map((key) =>
      el('span', {
        className: 'thumbprint',
        dataset: { keyId: key.keyId },
        title: `Key id ${key.keyId}, added ${new Date(key.addedAt).toLocaleString()}`,
        textContent: key.thumbprint,
      }),
    ),
  );
  container.hidden = keys.length === 0;
}
