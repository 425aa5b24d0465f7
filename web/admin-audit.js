/** Admin card "Audit log": who did what, newest first. */
import { callApi } from './api.js';
import { byId, row } from './dom.js';

export async function showAudit() {
  const { entries } = await callApi('GET', '/api/organisation/audit');
  byId('audit').replaceChildren(
    ...entries.map((entry) => {
      const details = Object.entries(entry.details).map(([k, v]) => `${k}: ${v}`).join(', ');
      return row([new Date(entry.time).toLocaleString(), entry.user_name ?? '', entry.action, details]);
    }),
  );
}
