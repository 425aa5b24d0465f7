/**
 * Settings: the end-to-end keys this browser holds, with their thumbprints, to compare
 * with the system's (admin page, `bwlive system keys show`, the camera agent). Shown to
 * every signed-in user, whatever the role. Test hooks: `#browser-keys`, `.thumbprint`
 * with `data-key-id`, `#browser-keys-none`.
 */
import { listKeys } from './keystore.js';

const page = document.createElement('main');
page.className = 'page';
page.innerHTML = `
  <section class="card" id="browser-keys" aria-labelledby="browser-keys-title">
    <h2 id="browser-keys-title">Keys in this browser</h2>
    <p class="hint">Streams are decrypted here with these keys. Their thumbprints must match the
      system's, shown on the admin page and by the camera.</p>
    <table><thead><tr><th>Thumbprint</th><th>Added</th></tr></thead><tbody></tbody></table>
    <p class="message" id="browser-keys-none" hidden>No key in this browser (site data cleared?): open
      the link with key your administrator gave you. Everything else keeps working.</p>
  </section>`;
document.getElementById('settings').before(page);

listKeys()
  .catch(() => [])
  .then((keys) => {
    page.querySelector('tbody').replaceChildren(
      ...keys.map((key) => {
        const row = document.createElement('tr');
        const thumbprint = document.createElement('td');
        thumbprint.className = 'thumbprint';
        thumbprint.dataset.keyId = key.keyId;
        thumbprint.textContent = key.thumbprint;
        const added = document.createElement('td');
        added.textContent = new Date(key.addedAt).toLocaleString();
        row.append(thumbprint, added);
        return row;
      }),
    );
    page.querySelector('#browser-keys-none').hidden = keys.length > 0;
  });
