/**
 * Admin card "API keys": the organisation's keys (name, prefix, role, origins, who made
 * it, last used), a new key whose secret is shown once, and revocation.
 */
import { ApiError, callApi } from './api.js';
import { button, byId, row, say } from './dom.js';

export function startApiKeys() {
  const message = byId('api-key-message');
  const secret = byId('api-key-secret');

  /** Call the API; a refusal is said in the card and gives null. */
  async function attempt(method, path, body) {
    try {
      return await callApi(method, path, body);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      say(message, error.message);
      return null;
    }
  }

  async function showKeys() {
    const { api_keys: keys } = await callApi('GET', '/api/organisation/api-keys');
    byId('api-keys').replaceChildren(
      ...keys.map((key) => {
        const when = (time) => (time ? new Date(time).toLocaleString() : 'never');
        const state = key.revoked_at
          ? `revoked ${when(key.revoked_at)}`
          : button('quiet', 'Revoke', async () => {
              if (!(await attempt('POST', `/api/organisation/api-keys/${encodeURIComponent(key.id)}/revoke`))) return;
              say(message, `${key.name} is revoked: its tokens are refused from now on.`, true);
              await showKeys();
            });
        const cells = [key.name, key.prefix, key.role, key.origins.join(' '), key.created_by, when(key.last_used_at), state];
        return row(cells, { dataset: { keyId: key.id } });
      }),
    );
  }

  byId('api-key-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const days = form.get('expires');
    const created = await attempt('POST', '/api/organisation/api-keys', {
      name: form.get('name'),
      role: form.get('role'),
      origins: String(form.get('origins')).split(/\s+/).filter(Boolean),
      ...(days ? { expires_in_days: Number(days) } : {}),
    });
    secret.hidden = !created;
    if (!created) return;
    say(message, 'Copy the key into your backend now: it is not shown again.', true);
    secret.textContent = created.secret;
    event.target.reset();
    await showKeys();
  });
  return showKeys();
}
