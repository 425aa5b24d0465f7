/**
 * Admin card "License": whether cameras may stream, the licensed total, the cameras
 * counting now and their 7-day average, the organisation id the issuer needs (copyable),
 * the licenses, adding a license file.
 */
import { ApiError, callApi } from './api.js';
import { byId, row } from './dom.js';

export function startLicense() {
  byId('copy-organisation-id').addEventListener('click', async () => {
    await navigator.clipboard.writeText(byId('organisation-id').textContent);
    byId('copy-organisation-id').textContent = 'Copied';
  });
  byId('license-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const message = byId('license-message');
    try {
      await callApi('POST', '/api/organisation/licenses', String(new FormData(event.target).get('license')));
      message.textContent = '';
      event.target.reset();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      message.textContent = error.message;
    }
    await showLicense();
  });
  return showLicense();
}

/** (Re)draw the card; also after a fleet change, which may change the usage. */
export async function showLicense() {
  const state = await callApi('GET', '/api/organisation/license');
  const line = byId('license-state');
  line.textContent = `${state.ok ? 'Streaming is licensed' : 'Cameras cannot stream'}: ${state.reason}.`;
  line.className = state.ok ? 'message ok' : 'message';
  byId('license-total').textContent = String(state.licensed_cameras);
  byId('license-now').textContent = String(state.in_use);
  byId('license-average').textContent = state.needed.toFixed(1);
  byId('organisation-id').textContent = state.organisation_id;
  byId('license-issuer').hidden = state.issuer_key;
  byId('licenses').replaceChildren(
    ...state.licenses.map((license) =>
      row([license.id, String(license.cameras), `${license.valid_from} – ${license.valid_until}`]),
    ),
  );
}
