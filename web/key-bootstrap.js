/**
 * How every page that needs keys starts: take in a link with key from the address
 * (asking for the passphrase of a protected one), then list the keys this browser holds.
 * A link pasted into a page that is already open is taken in too (the page starts again
 * with it), and what went wrong with a link survives the way to the sign-in page.
 */
import { NO_KEY_MESSAGE } from './content-key.js';
import { el } from './dom.js';
import { importFromLocationHash, listKeys } from './keystore.js';
import { askPassphrase, closePassphrase } from './passphrase.js';

/** @typedef {import('./keystore.js').KeyRecord} KeyRecord */

const LINK_PROBLEM = 'bwlive.linkProblem'; // sessionStorage: told on the next page of this tab
const KEY_IN_FRAGMENT = /(^|&)p?key=/;

// A link with key pasted into this open tab changes only the fragment (no page load):
// start the page again, which takes the key in and removes it from the address.
addEventListener('hashchange', () => {
  if (KEY_IN_FRAGMENT.test(location.hash.slice(1))) location.reload();
});

const LINK_PROBLEM_FRESH_MS = 60_000;

/**
 * What went wrong with a link opened in this tab in the last minute (told once), e.g.
 * by the console just before it sent the operator here to sign in.
 * @returns {string | null}
 */
export function takeLinkProblem() {
  const kept = JSON.parse(sessionStorage.getItem(LINK_PROBLEM) ?? 'null');
  sessionStorage.removeItem(LINK_PROBLEM);
  return kept && Date.now() - kept.at < LINK_PROBLEM_FRESH_MS ? kept.problem : null;
}

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
    sessionStorage.setItem(LINK_PROBLEM, JSON.stringify({ problem, at: Date.now() })); // for the sign-in page
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
