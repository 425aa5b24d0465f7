/**
 * The "End-to-end key" card of the admin page: a new system key pair made here with
 * WebCrypto. The private key stays in this browser (non-extractable in the keystore)
 * and in the links the admin copies; only the public key (SPKI PEM) goes to the server,
 * which makes it the chosen system's key. The system's cameras take it only once an admin
 * confirms the change under Cameras, so the old and new thumbprints are shown to compare.
 *
 * The links carry the chosen system's signing public key (PROTOCOL §1), which this page
 * has from the server: its thumbprint is shown with the advice to compare it with
 * `bwlive system keys show` on the system host (the link the CLI makes needs no server).
 *
 * Test hooks: `#e2e-keys` (the card), `.e2e-system` rows with `data-system-id`,
 * `.thumbprint` and `.signing-thumbprint`, `#e2e-form`, `#e2e-message`,
 * `#e2e-new-thumbprint`, `#e2e-signing-thumbprint`, `#e2e-unsigned`, `#e2e-link`,
 * `#e2e-protected-link`, `#e2e-change` with `#e2e-previous-thumbprint` and
 * `#e2e-changed-thumbprint`.
 */
import { ApiError, callApi } from './api.js';
import { el, row, say } from './dom.js';
import { b64uDecode, thumbprintOf } from './e2ee.js';
import { storePkcs8 } from './keystore.js';
import { MIN_PASSPHRASE, encryptProtected, keyLink, protectedLink } from './link-key.js';
import { sealSigned, signedKeyLink, signingThumbprint } from './link-make.js';

const ECDH_P256 = { name: 'ECDH', namedCurve: 'P-256' };
/** @type {Map<string, string | null>} system id → b64u raw signing public key (null: none yet) */
const signingKeys = new Map();

const card = el('section', { className: 'card', id: 'e2e-keys' });
card.innerHTML = `
  <h2>End-to-end key</h2>
  <p class="hint">Cameras encrypt to the system's public key; only browsers holding the
    private key can watch. A new pair is made in this browser: the server receives the
    public key alone. Streams already running keep their key.</p>
  <table><thead><tr><th>System</th><th>Thumbprint</th><th>Signing key</th></tr></thead>
    <tbody id="e2e-systems"></tbody></table>
  <form class="stack" id="e2e-form">
    <label>System <select name="system" required></select></label>
    <label>Passphrase for a password-protected link (optional, ${MIN_PASSPHRASE}+ characters)
      <input name="passphrase" type="password" autocomplete="new-password"></label>
    <label>Passphrase again <input name="again" type="password" autocomplete="new-password"></label>
    <button class="primary" type="submit">Generate a new key pair</button>
  </form>
  <div class="message" id="e2e-message" role="alert"></div>
  <p hidden id="e2e-change">Key <span class="thumbprint" id="e2e-previous-thumbprint"></span> →
    <span class="thumbprint" id="e2e-changed-thumbprint"></span>. The system's cameras take the new key
    only after an admin confirms it under Cameras (Key changes); until then they cannot dock.</p>
  <p hidden id="e2e-result">New key <strong id="e2e-new-thumbprint"></strong>, kept in this browser.
    Give operators one of these links (each contains the private key):</p>
  <p hidden id="e2e-signed">The links carry the system's signing key <strong id="e2e-signing-thumbprint"></strong>,
    with which browsers check that a stream comes from a camera of this system. This page has it from the
    server: compare it with <code>bwlive system keys show</code> on the system host before you hand the links
    out (or hand out the link that command prints).</p>
  <p hidden id="e2e-unsigned">This system has no signing key yet, so these links cannot verify its cameras:
    on the system host, run <code>bwlive system keys generate --signing-only</code> and dock a camera.</p>
  <code class="secret" id="e2e-link" hidden></code>
  <code class="secret" id="e2e-protected-link" hidden></code>`;
const $ = (id) => card.querySelector(`#${id}`);

/**
 * Add the card to the page.
 * @param {HTMLElement} page where it goes
 * @param {() => Promise<unknown>} onKeyChanged after the server took a new key
 */
export function startKeys(page, onKeyChanged) {
  card.querySelector('form').addEventListener('submit', (event) => {
    generate(event, onKeyChanged).catch((error) => say($('e2e-message'), `No key pair made: ${error.message}`));
  });
  page.append(card);
  return showSystems();
}

async function showSystems() {
  const { systems } = await callApi('GET', '/api/organisation/systems');
  signingKeys.clear();
  for (const system of systems) signingKeys.set(system.id, system.signing_key);
  $('e2e-systems').replaceChildren(
    ...systems.map((system) =>
      row([
        system.name,
        el('td', { className: 'thumbprint', textContent: thumbprintOf(system.key_id) }),
        el('td', { className: 'signing-thumbprint', textContent: system.signing_key_id ? thumbprintOf(system.signing_key_id) : 'none yet' }),
      ], {
        className: 'e2e-system',
        dataset: { systemId: system.id },
      }),
    ),
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

async function generate(event, onKeyChanged) {
  event.preventDefault();
  $('e2e-change').hidden = true;
  const form = new FormData(event.target);
  const passphrase = String(form.get('passphrase'));
  const message = $('e2e-message');
  const problem = passphraseProblem(passphrase, String(form.get('again')));
  if (problem) {
    say(message, problem);
    return;
  }
  say(message, 'Generating…');
  const pair = await crypto.subtle.generateKey(ECDH_P256, true, ['deriveBits']);
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  const spki = await crypto.subtle.exportKey('spki', pair.publicKey);
  const record = await storePkcs8(pkcs8);
  const signing = signingKeys.get(String(form.get('system')));
  const signingKey = signing ? b64uDecode(signing) : null;
  $('e2e-new-thumbprint').textContent = record.thumbprint;
  $('e2e-link').textContent = signingKey ? signedKeyLink(location.origin, pkcs8, signingKey) : keyLink(location.origin, pkcs8);
  $('e2e-link').hidden = false;
  $('e2e-protected-link').hidden = !passphrase;
  if (passphrase) {
    const sealed = signingKey ? await sealSigned(pkcs8, passphrase, signingKey) : await encryptProtected(pkcs8, passphrase);
    $('e2e-protected-link').textContent = protectedLink(location.origin, sealed);
  }
  $('e2e-signing-thumbprint').textContent = signingKey ? await signingThumbprint(signingKey) : '';
  $('e2e-signed').hidden = !signingKey;
  $('e2e-unsigned').hidden = Boolean(signingKey);
  $('e2e-result').hidden = false;
  let changed = null;
  try {
    changed = await callApi('PUT', `/api/organisation/systems/${encodeURIComponent(form.get('system'))}/public-key`,
      { public_key: pem(spki) });
    say(message, 'The system now encrypts new streams to this key.', true);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say(message, `The server did not take the public key: ${error.message}`);
  }
  event.target.reset();
  await showSystems();
  if (!changed) return;
  $('e2e-previous-thumbprint').textContent = changed.previous_thumbprint;
  $('e2e-changed-thumbprint').textContent = changed.thumbprint;
  $('e2e-change').hidden = false;
  await onKeyChanged();
}
