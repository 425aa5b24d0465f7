/**
 * The "End-to-end key" card of the admin page: a new system key pair made here with
 * WebCrypto. The private key stays in this browser (non-extractable in the keystore)
 * and in the links the admin copies; only the public key (SPKI PEM) goes to the server,
 * which makes it the chosen system's key.
 *
 * Test hooks: `#e2e-keys` (the card), `.e2e-system` rows with `data-system-id` and
 * `.thumbprint`, `#e2e-form`, `#e2e-message`, `#e2e-new-thumbprint`, `#e2e-link`,
 * `#e2e-protected-link`.
 */
import { thumbprintOf } from './e2ee.js';
import { storePkcs8 } from './keystore.js';
import { MIN_PASSPHRASE, encryptProtected, keyLink, protectedLink } from './link-key.js';
import { apiFetch, errorText, loadSession } from './session.js';

const ECDH_P256 = { name: 'ECDH', namedCurve: 'P-256' };

const card = document.createElement('section');
card.className = 'card';
card.id = 'e2e-keys';
card.innerHTML = `
  <h2>End-to-end key</h2>
  <p class="hint">Cameras encrypt to the system's public key; only browsers holding the
    private key can watch. A new pair is made in this browser: the server receives the
    public key alone. Streams already running keep their key.</p>
  <table><thead><tr><th>System</th><th>Thumbprint</th></tr></thead><tbody id="e2e-systems"></tbody></table>
  <form class="stack" id="e2e-form">
    <label>System <select name="system" required></select></label>
    <label>Passphrase for a password-protected link (optional, ${MIN_PASSPHRASE}+ characters)
      <input name="passphrase" type="password" autocomplete="new-password"></label>
    <label>Passphrase again <input name="again" type="password" autocomplete="new-password"></label>
    <button class="primary" type="submit">Generate a new key pair</button>
  </form>
  <div class="message" id="e2e-message" role="alert"></div>
  <p hidden id="e2e-result">New key <strong id="e2e-new-thumbprint"></strong>, kept in this browser.
    Give operators one of these links (each contains the private key):</p>
  <code class="secret" id="e2e-link" hidden></code>
  <code class="secret" id="e2e-protected-link" hidden></code>`;
const $ = (id) => card.querySelector(`#${id}`);

async function showSystems() {
  const response = await apiFetch('/api/organisation/systems');
  if (!response.ok) return;
  const { systems } = await response.json();
  $('e2e-systems').replaceChildren(
    ...systems.map((system) => {
      const row = document.createElement('tr');
      row.className = 'e2e-system';
      row.dataset.systemId = system.id;
      const name = document.createElement('td');
      name.textContent = system.name;
      const thumbprint = document.createElement('td');
      thumbprint.className = 'thumbprint';
      thumbprint.textContent = thumbprintOf(system.key_id);
      row.append(name, thumbprint);
      return row;
    }),
  );
  const select = card.querySelector('select[name=system]');
  const chosen = select.value;
  select.replaceChildren(...systems.map((system) => new Option(system.name, system.id, false, system.id === chosen)));
}

/**
 * @param {string} passphrase
 * @param {string} again
 * @returns {string | null} what is wrong with the passphrase fields
 */
function passphraseProblem(passphrase, again) {
  if (passphrase !== again) return 'The two passphrases differ.';
  if (passphrase && passphrase.length < MIN_PASSPHRASE) return `A passphrase needs at least ${MIN_PASSPHRASE} characters.`;
  return null;
}

/** @param {ArrayBuffer} spki */
function pem(spki) {
  const b64 = btoa(String.fromCharCode(...new Uint8Array(spki)));
  return `-----BEGIN PUBLIC KEY-----\n${b64.match(/.{1,64}/g).join('\n')}\n-----END PUBLIC KEY-----\n`;
}

async function generate(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const passphrase = String(form.get('passphrase'));
  const message = $('e2e-message');
  message.className = 'message';
  const problem = passphraseProblem(passphrase, String(form.get('again')));
  if (problem) {
    message.textContent = problem;
    return;
  }
  message.textContent = 'Generating…';
  const pair = await crypto.subtle.generateKey(ECDH_P256, true, ['deriveBits']);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  const spki = await crypto.subtle.exportKey('spki', pair.publicKey);
  const record = await storePkcs8(pkcs8);
  $('e2e-new-thumbprint').textContent = record.thumbprint;
  $('e2e-link').textContent = keyLink(location.origin, pkcs8);
  $('e2e-link').hidden = false;
  $('e2e-protected-link').hidden = !passphrase;
  if (passphrase) $('e2e-protected-link').textContent = protectedLink(location.origin, await encryptProtected(pkcs8, passphrase));
  $('e2e-result').hidden = false;
  const response = await apiFetch(`/api/organisation/systems/${encodeURIComponent(form.get('system'))}/public-key`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ public_key: pem(spki) }),
  });
  if (response.ok) {
    message.className = 'message ok';
    message.textContent = 'The system now encrypts new streams to this key.';
  } else {
    message.textContent = `The server did not take the public key: ${await errorText(response)}`;
  }
  event.target.reset();
  await showSystems();
}

card.querySelector('form').addEventListener('submit', (event) => {
  generate(event).catch((error) => {
    $('e2e-message').textContent = `No key pair made: ${error.message}`;
  });
});

loadSession().then(async (session) => {
  if (session?.role !== 'admin') return;
  document.getElementById('admin').append(card);
  await showSystems();
});
