/**
 * Rows of the Cameras card's "Key changes" list: a camera whose system's key was replaced
 * since it last docked, with the old and new thumbprints side by side. Confirming changes
 * whom the camera encrypts to, so it takes two steps: "Confirm…" opens a row below asking
 * "Are you sure?" with old → new, then Yes or Cancel.
 *
 * Test hooks: `.key-change[data-serial]` rows with `.old-thumbprint`, `.new-thumbprint`,
 * `button.confirm-key` and, once confirmed, `.confirmed` (the camera takes the new key at
 * its next dock); `.confirm-step[data-serial]` rows with `button.confirm-yes` / `button.confirm-no`.
 */
import { button, el, row } from './dom.js';

const COLUMNS = 6;

/** @param {string} className @param {string} text */
function thumbprint(className, text) {
  return el('span', { className: `thumbprint ${className}`, textContent: text });
}

/**
 * @param {{serial: string, system: string, old_thumbprint: string, new_thumbprint: string,
 *   confirmed: boolean}} change one of `GET /api/fleet/key-changes`
 * @param {string} cameraUser the name of the camera's camera user
 * @param {() => Promise<void>} confirm posts the confirmation of the new thumbprint
 */
export function keyChangeRow(change, cameraUser, confirm) {
  const dataset = { serial: change.serial };
  const action = el('td', {});
  const line = row([change.serial, cameraUser, change.system, thumbprint('old-thumbprint', change.old_thumbprint),
    thumbprint('new-thumbprint', change.new_thumbprint), action], { className: 'key-change', dataset });
  if (change.confirmed) {
    action.append(el('span', { className: 'confirmed', textContent: 'Confirmed: taken at its next dock' }));
    return line;
  }
  const offer = button('quiet confirm-key', 'Confirm…', () => {
    offer.disabled = true;
    const yes = button('primary confirm-yes', 'Yes, take the new key', () => {
      yes.disabled = true;
      confirm();
    });
    const no = button('quiet confirm-no', 'Cancel', () => {
      step.remove();
      offer.disabled = false;
    });
    const step = el('tr', { className: 'confirm-step', dataset }, el('td', { colSpan: COLUMNS },
      el('p', {}, `Are you sure? Camera ${change.serial} of system ${change.system} will encrypt to the new key: `,
        thumbprint('', change.old_thumbprint), ' → ', thumbprint('', change.new_thumbprint)),
      yes, ' ', no));
    line.after(step);
  });
  action.append(offer);
  return line;
}
