/**
 * Sign in, then pick one of the user's organisations (or create the first one), then
 * return to the page that sent us here.
 */
import { apiFetch, errorText, loadSession, setSession } from './session.js';

const next = new URLSearchParams(location.search).get('next') || '/';
const $ = (id) => document.getElementById(id);

/** Show what the session needs next: a sign-in, an organisation, or nothing (go on). */
function proceed(session) {
  setSession(session);
  if (!session.signed_in) {
    $('signin').hidden = false;
    return;
  }
  $('signin').hidden = true;
  if (session.organisation) {
    location.assign(next.startsWith('/') ? next : '/');
    return;
  }
  const organisations = session.organisations ?? [];
  $('create').hidden = organisations.length > 0;
  $('pick').hidden = organisations.length === 0;
  $('organisations').replaceChildren(
    ...organisations.map((org) => {
      const button = document.createElement('button');
      button.className = 'quiet';
      button.dataset.organisationId = org.id;
      button.textContent = `${org.name} (${org.role})`;
      button.addEventListener('click', () => pick(org.id));
      return button;
    }),
  );
}

async function pick(organisationId) {
  const response = await apiFetch('/api/session/organisation', {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ organisation_id: organisationId }),
  });
  if (response.ok) proceed(await response.json());
}

$('signin-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch('/api/session', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: form.get('email'), password: form.get('password') }),
  });
  if (!response.ok) {
    $('signin-message').textContent = await errorText(response);
    return;
  }
  proceed(await response.json());
});

$('create-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const response = await apiFetch('/api/organisations', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: new FormData(event.target).get('name') }),
  });
  if (!response.ok) {
    $('create-message').textContent = await errorText(response);
    return;
  }
  proceed(await response.json());
});

loadSession().then(proceed);
