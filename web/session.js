/**
 * The signed-in session: who, which organisation, which role; its CSRF token (or, for a
 * self-hosted console, its bearer token) goes to api.js, which puts it on the requests.
 */
import { showAccountMenu } from './account-menu.js';
import { callApi, keepSessionToken, setCsrfToken, toSignIn } from './api.js';
import { byId, showText } from './dom.js';

/**
 * @typedef {{signed_in: boolean, two_factor?: boolean,
 *   user?: {id: string, email: string, name: string, two_factor: boolean},
 *   organisations?: {id: string, name: string, role: string}[],
 *   organisation?: {id: string, name: string} | null, role?: string | null,
 *   two_factor_required?: boolean, must_enrol?: boolean, csrf_token?: string,
 *   session_token?: string, challenge?: string}} Session
 */

/** Ask the server who is signed in here. @returns {Promise<Session>} */
export async function loadSession() {
  let session;
  try {
    session = await callApi('GET', '/api/session');
  } catch {
    session = { signed_in: false }; // refused, unreachable, or not a bwlive server
  }
  setSession(session);
  return session;
}

/** @param {Session} session a session body returned by the sign-in or organisation APIs */
export function setSession(session) {
  setCsrfToken(session.csrf_token);
  keepSessionToken(session);
}

/**
 * Load the session; unless signed in with an organisation picked, go and sign in; when the
 * organisation requires two-factor sign-in the user has not set up, go to the Account
 * page to set it up. Puts the account menu into the page's header.
 * @returns {Promise<Session | null>}
 */
export async function requireSignIn() {
  const session = await loadSession();
  if (!session.signed_in || !session.organisation) {
    toSignIn();
    return null;
  }
  if (session.must_enrol && !location.pathname.endsWith('/account.html')) {
    location.assign('/web/account.html');
    return null;
  }
  showAccountMenu(session);
  return session;
}

/**
 * For the admin pages: for anyone but an admin, say in `#banner` that `what` needs the
 * admin role.
 * @param {Session} session
 * @param {string} what e.g. 'Administration needs'
 * @returns {boolean} whether the signed-in user is an admin here
 */
export function checkAdmin(session, what) {
  const admin = session.role === 'admin';
  if (!admin) showText(byId('banner'), `${what} the admin role; you are ${session.role} in ${session.organisation.name}.`);
  return admin;
}
