/**
 * Rows of the Cameras card's "Key changes" list: a camera whose system's key was replaced
 * since it last docked, with the old and new thumbprints side by side. Confirming changes
 * whom the camera encrypts to, so it takes two steps: "Confirm…", then "Are you sure?
 * old → new" with Yes or Cancel.
 *
 * Test hooks: `.key-change[data-serial]` rows with `.old-thumbprint`, `.new-thumbprint`,
 * `button.confirm-key`, then `.confirm-step` with `button.confirm-yes` / `button.confirm-no`;
 * `.confirmed` once confirmed (the camera takes the new key at its next dock).
 */
import { button, el, row } from './dom.js';

/**
 * @param {{serial: string, system: string, old_thumbprint: string, new_thumbprint: string,
 *   confirmed: boolean}} change one of `GET /api/fleet/key-changes`
 * @param {string} cameraUser the name of the camera's camera user
 * @param {() => Promise<void>} confirm posts the confirmation of the new thumbprint
 */
export function keyChangeRow(change, cameraUser, confirm) {
  const thumbprint = (className, text) => el('td', {}, el('span', { className: `thumbprint ${className}`, textContent: text }));
  const action = el('td', {});
  const offer = () => action.replaceChildren(button('quiet confirm-key', 'Confirm…', ask));
  const ask = () => {
    const yes = button('primary confirm-yes', 'Yes, take the new key', () => {
      yes.disabled = true;
      confirm();
    });
    action.replaceChildren(el('div', { className: 'confirm-step' },
      el('p', { textContent: `Are you sure? Camera ${change.serial}: ${change.old_thumbprint} → ${change.new_thumbprint}` }),
      yes, button('quiet confirm-no', 'Cancel', offer)));
  };
  if (change.confirmed) action.append(el('span', { className: 'confirmed', textContent: 'Confirmed: taken at its next dock' }));
  else offer();
  return row(
    [change.serial, cameraUser, change.system, thumbprint('old-thumbprint', change.old_thumbprint),
      thumbprint('new-thumbprint', change.new_thumbprint), action],
    { className: 'key-change', dataset: { serial: change.serial } },
  );
}
