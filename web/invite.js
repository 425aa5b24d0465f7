/** Accept an invitation: the token is in the link's fragment (`#token=...`). */
import { errorText } from './session.js';

const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
const $ = (id) => document.getElementById(id);

async function show() {
  const response = await fetch(`/api/invitations/${encodeURIComponent(token)}`);
  if (!response.ok) {
    $('message').textContent = await errorText(response);
    return;
  }
  const invitation = await response.json();
  $('title').textContent = `Join ${invitation.organisation}`;
  $('about').textContent = `${invitation.email} is invited as ${invitation.role}. The invitation expires ${new Date(invitation.expires_at).toLocaleString()}.`;
  $('accept-form').hidden = false;
}

$('accept-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch(`/api/invitations/${encodeURIComponent(token)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: form.get('name'), password: form.get('password') }),
  });
  if (!response.ok) {
    $('message').textContent = await errorText(response);
    return;
  }
  location.assign('/');
});

show();
