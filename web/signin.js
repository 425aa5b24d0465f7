/**
 * Sign in (the password, then, for two-factor users, a code), then pick one of the user's
 * organisations (or create the first one), then return to the page that sent us here.
 */
import { ApiError, callApi } from './api.js';
import { byId, el, showText } from './dom.js';
import { takeLinkProblem } from './key-bootstrap.js';
import { loadSession, setSession } from './session.js';

const next = new URLSearchParams(location.search).get('next') || '/';

/**
 * Where to go after signing in: `target` only if it stays on this origin (`//elsewhere`
 * and `/\\elsewhere` do not), else the console.
 * @param {string} target
 */
function sameOrigin(target) {
  const url = new URL(target, location.origin);
  return url.origin === location.origin ? url.pathname + url.search + url.hash : '/';
}

/**
 * Show what the session needs next: a sign-in, an organisation, or nothing (go on).
 * @param {import('./session.js').Session} session
 */
function proceed(session) {
  setSession(session);
  if (session.two_factor) {
    byId('signin').hidden = true;
    byId('code').hidden = false;
    byId('code-form').querySelector('input').focus();
    return;
  }
  if (!session.signed_in) {
    byId('signin').hidden = false;
    showText(byId('link-problem'), takeLinkProblem());
    return;
  }
  byId('signin').hidden = true;
  byId('code').hidden = true;
  if (session.organisation) {
    location.assign(sameOrigin(next));
    return;
  }
  const organisations = session.organisations ?? [];
  byId('create').hidden = organisations.length > 0;
  byId('pick').hidden = organisations.length === 0;
  byId('organisations').replaceChildren(
    ...organisations.map((org) =>
      el('button', {
        className: 'quiet',
        dataset: { organisationId: org.id },
        textContent: `${org.name} (${org.role})`,
        onclick: () => submit('PUT', '/api/session/organisation', { organisation_id: org.id }),
      }),
    ),
  );
}

/**
 * Send a session change; go on with the session it answers, or say why it was refused.
 * @param {string} method
 * @param {string} path
 * @param {object} body
 * @param {HTMLElement} [message] where a refusal is told (none: silently)
 */
async function submit(method, path, body, message) {
  let session;
  try {
    session = await callApi(method, path, body);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (message) message.textContent = error.message;
    return;
  }
  proceed(session);
}

byId('signin-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  submit('POST', '/api/session', { email: form.get('email'), password: form.get('password') }, byId('signin-message'));
});

byId('code-form').addEventListener('submit', (event) => {
  event.preventDefault();
  submit('POST', '/api/session/two-factor', { code: new FormData(event.target).get('code') }, byId('code-message'));
});

byId('create-form').addEventListener('submit', (event) => {
  event.preventDefault();
  submit('POST', '/api/organisations', { name: new FormData(event.target).get('name') }, byId('create-message'));
});

loadSession().then(proceed);
