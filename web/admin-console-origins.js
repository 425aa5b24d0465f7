/**
 * Admin card "Console origins": the origins where the organisation hosts the web client
 * itself (`bwlive webclient export --console`); members sign in there to short-lived
 * bearer sessions (docs/EMBEDDING.md, "Hosting the console yourself").
 */
import { ApiError, callApi } from './api.js';
import { byId, say } from './dom.js';

export async function startConsoleOrigins() {
  const form = byId('console-origins-form');
  const message = byId('console-origins-message');
  const field = form.elements.namedItem('origins');
  field.value = (await callApi('GET', '/api/organisation/console-origins')).origins.join(' ');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const origins = String(field.value).split(/\s+/).filter(Boolean);
    try {
      const saved = await callApi('PUT', '/api/organisation/console-origins', { origins });
      field.value = saved.origins.join(' ');
      say(message, saved.origins.length ? 'Saved: members may sign in there.' : 'Saved: no console origins.', true);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      say(message, error.message);
    }
  });
}
