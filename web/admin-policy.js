/** Admin card "Sign-in security": whether the organisation requires two-factor sign-in. */
import { callApi } from './api.js';
import { byId } from './dom.js';
import { callSaying } from './form-call.js';

export async function startPolicy() {
  const box = /** @type {HTMLInputElement} */ (byId('require-two-factor'));
  box.checked = (await callApi('GET', '/api/organisation/policy')).require_two_factor;
  box.addEventListener('change', async () => {
    const answer = await callSaying(byId('security-message'), 'PUT', '/api/organisation/policy', {
      require_two_factor: box.checked,
    });
    if (!answer) box.checked = !box.checked;
  });
}
