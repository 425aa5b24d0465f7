/**
 * Settings card "Keys in this browser": the end-to-end keys held here, with their
 * thumbprints, to compare with the system's (admin page, `bwlive system keys show`, the
 * camera agent). Shown to every signed-in user, whatever the role. Test hooks:
 * `#browser-keys`, `.thumbprint` with `data-key-id`, `#browser-keys-none`.
 */
import { el, row } from './dom.js';

/**
 * The card (a section of the page's `main`).
 * @param {import('./keystore.js').KeyRecord[]} keys
 */
export function browserKeysCard(keys) {
  const page = el('div');
  page.innerHTML = `
    <section class="card" id="browser-keys" aria-labelledby="browser-keys-title">
      <h2 id="browser-keys-title">Keys in this browser</h2>
      <p class="hint">Streams are decrypted here with these keys. Their thumbprints must match the
        system's, shown on the admin page and by the camera.</p>
      <table><thead><tr><th>Thumbprint</th><th>Added</th></tr></thead><tbody></tbody></table>
      <p class="message" id="browser-keys-none" hidden>No key in this browser (site data cleared?): open
        the link with key your administrator gave you. Everything else keeps working.</p>
    </section>`;
  page.querySelector('tbody').replaceChildren(
    ...keys.map((key) =>
      row([
        el('td', { className: 'thumbprint', dataset: { keyId: key.keyId }, textContent: key.thumbprint }),
        new Date(key.addedAt).toLocaleString(),
      ]),
    ),
  );
  page.querySelector('#browser-keys-none').hidden = keys.length > 0;
  return page.firstElementChild;
}
