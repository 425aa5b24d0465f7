/**
 * Sign in (the password, then, for two-factor users, a code), then pick one of the user's
 * organisations (or create the first one), then return to the page that sent us here.
 */
import { ApiError, CONSOLE_API, callApi } from './api.js';
import { byId, el, showText } from './dom.js';
import { takeLinkProblem } from './key-bootstrap.js';
import { loadSession, setSession } from './session.js';

const next = new URLSearchParams(location.search).get('next') || '/';
/** @type {string | undefined} a self-hosted console's two-factor challenge (elsewhere: a cookie) */
let challenge;

/**
 * Where to go after signing in: `target` only if it stays on this origin (`//elsewhere`
 * and `/\\elsewhere` do not), else the console.
 * @param {string} target
 */
function sameOrigin(target) {
  const url = new URL(target, location.origin);
  return url.origin === location.origin ? url.pathname + url.search + url.hash : '/';
}

/** Why a sign-in got no answer: the server is down, or (hosted elsewhere) it does not admit this origin. */
function unreachable() {
  const server = CONSOLE_API.base;
  return server === location.origin
    ? 'The bwlive server does not answer; try again in a moment.'
    : `The bwlive server at ${server} does not answer this page: it is down, or ${location.origin} is not a ` +
        'console origin of your organisation (an admin adds it under Administration).';
}

/**
 * Show what the session needs next: a sign-in, an organisation, or nothing (go on).
 * @param {import('./session.js').Session} session
 */
function proceed(session) {
  setSession(session);
  if (session.two_factor) {
    challenge = session.challenge;
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
    if (message) message.textContent = error instanceof ApiError ? error.message : unreachable();
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
  const code = new FormData(event.target).get('code');
  submit('POST', '/api/session/two-factor', challenge ? { code, challenge } : { code }, byId('code-message'));
});

byId('create-form').addEventListener('submit', (event) => {
  event.preventDefault();
  submit('POST', '/api/organisations', { name: new FormData(event.target).get('name') }, byId('create-message'));
});

loadSession().then(proceed);
