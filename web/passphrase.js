/**
 * Asks for the passphrase of a password-protected link with key, in a small dialog.
 * Test hooks: `#passphrase` (the dialog), `#passphrase-input`, `#passphrase-error`.
 */
import { el } from './dom.js';

/**
 * @param {string | null} problem what was wrong with the last passphrase, if anything
 * @returns {Promise<string | null>} the passphrase, null when the operator skips
 */
export function askPassphrase(problem) {
  const dialog = document.getElementById('passphrase') ?? buildDialog();
  const form = dialog.querySelector('form');
  const input = dialog.querySelector('input');
  const error = dialog.querySelector('#passphrase-error');
  const unlock = dialog.querySelector('button[type=submit]');
  error.textContent = problem ?? '';
  input.value = '';
  unlock.disabled = false;
  unlock.textContent = 'Unlock';
  if (!dialog.open) dialog.showModal();
  input.focus();
  return new Promise((resolve) => {
    form.onsubmit = (event) => {
      event.preventDefault();
      unlock.disabled = true;
      unlock.textContent = 'Unlocking…';
      error.textContent = '';
      resolve(input.value);
    };
    dialog.querySelector('button.quiet').onclick = () => {
      dialog.close();
      resolve(null);
    };
  });
}

/** Close the dialog once the key is stored (or the link failed otherwise). */
export function closePassphrase() {
  document.getElementById('passphrase')?.close();
}

function buildDialog() {
  document.head.append(el('link', { rel: 'stylesheet', href: new URL('./passphrase.css', import.meta.url).href }));
  const dialog = el('dialog', { id: 'passphrase', className: 'passphrase' });
  dialog.innerHTML = `
    <form>
      <h2>Password-protected link with key</h2>
      <p>Type the passphrase your administrator gave you. This browser then keeps the key
        and will not ask again.</p>
      <label>Passphrase <input id="passphrase-input" type="password" autocomplete="off" required></label>
      <p class="passphrase-error" id="passphrase-error" role="alert"></p>
      <button type="submit" class="primary">Unlock</button>
      <button type="button" class="quiet">Skip</button>
    </form>`;
  dialog.addEventListener('cancel', (event) => event.preventDefault()); // Esc: use Skip
  document.body.append(dialog);
  return dialog;
}
