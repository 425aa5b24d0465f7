/**
 * A password-reset link an admin made (`#token=...`, valid 1 hour, one use): set a new
 * password, then sign in with it. The token leaves the address bar at once.
 */
import { byId } from './dom.js';
import { callSaying } from './form-call.js';

const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
history.replaceState(null, '', location.pathname);
const path = `/api/password-resets/${encodeURIComponent(token)}`;
const message = byId('message');

byId('reset-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const password = String(new FormData(event.target).get('password'));
  if (!(await callSaying(message, 'POST', path, { password }))) return;
  byId('reset-form').hidden = true;
  byId('about').textContent = 'Your password is set; your other sessions have ended.';
  byId('done').hidden = false;
});

callSaying(message, 'GET', path).then((reset) => {
  if (!reset) return;
  byId('about').textContent = `For ${reset.name} (${reset.email}); this link expires ${new Date(reset.expires_at).toLocaleString()}.`;
  byId('reset-form').hidden = false;
});
