/** Accept an invitation: the token is in the link's fragment (`#token=...`). */
import { byId } from './dom.js';
import { callSaying } from './form-call.js';

const path = `/api/invitations/${encodeURIComponent(new URLSearchParams(location.hash.slice(1)).get('token') ?? '')}`;

/**
 * A call whose refusal is shown in `#message`.
 * @returns {Promise<any>} the answer, null when refused
 */
function call(method, body) {
  return callSaying(byId('message'), method, path, body);
}

byId('accept-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  if (await call('POST', { name: form.get('name'), password: form.get('password') })) location.assign('/');
});

call('GET').then((invitation) => {
  if (!invitation) return;
  byId('title').textContent = `Join ${invitation.organisation}`;
  byId('about').textContent = `${invitation.email} is invited as ${invitation.role}. The invitation expires ${new Date(invitation.expires_at).toLocaleString()}.`;
  byId('accept-form').hidden = false;
});
