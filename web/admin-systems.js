/** Admin card "Systems": the organisation's systems and one-time codes for another to join. */
import { ApiError, callApi } from './api.js';
import { byId, row } from './dom.js';

export function startSystems() {
  byId('join-code').addEventListener('click', async () => {
    let code, expires;
    try {
      ({ code, expires_at: expires } = await callApi('POST', '/api/organisation/join-codes'));
    } catch (error) {
      if (error instanceof ApiError) return;
      throw error;
    }
    const line = byId('code');
    line.textContent = `bwlive system join --server ${location.origin} --code ${code} --name NAME   (until ${new Date(expires).toLocaleString()})`;
    line.hidden = false;
  });
  return showSystems();
}

/** (Re)draw the systems table. */
export async function showSystems() {
  const { systems } = await callApi('GET', '/api/organisation/systems');
  byId('systems').replaceChildren(
    ...systems.map((system) => row([system.name, system.key_id, new Date(system.joined_at).toLocaleString()])),
  );
}
