/**
 * The signed-in session: who, which organisation, which role, and the CSRF token that
 * every state-changing request must carry (`apiFetch` adds it).
 */

/** @type {{signed_in: boolean, user?: {id: string, email: string, name: string}, organisations?: {id: string, name: string, role: string}[], organisation?: {id: string, name: string} | null, role?: string | null, csrf_token?: string} | null} */
let current = null;

/** Ask the server who is signed in here. */
export async function loadSession() {
  try {
    const response = await fetch('/api/session', { cache: 'no-store' });
    current = response.ok ? await response.json() : { signed_in: false };
  } catch {
    current = { signed_in: false }; // the server is unreachable or not a bwlive server
  }
  return current;
}

/** The session last loaded (or set by a sign-in response). */
export function currentSession() {
  return current;
}

/** @param {object} body a session body returned by the sign-in or organisation APIs */
export function setSession(body) {
  current = body;
}

/**
 * fetch() with the session's CSRF header on state-changing requests; a 401 (session
 * ended) sends the browser to the sign-in page.
 * @param {string} url
 * @param {RequestInit} [init]
 */
export async function apiFetch(url, init = {}) {
  const method = (init.method ?? 'GET').toUpperCase();
  const headers = new Headers(init.headers ?? {});
  if (!['GET', 'HEAD'].includes(method) && current?.csrf_token) headers.set('X-CSRF-Token', current.csrf_token);
  const response = await fetch(url, { ...init, headers });
  if (response.status === 401 && !location.pathname.endsWith('/signin.html')) toSignIn();
  return response;
}

/** Go to the sign-in page, coming back here afterwards. */
export function toSignIn() {
  location.assign(`/web/signin.html?next=${encodeURIComponent(location.pathname)}`);
}

/** Load the session; unless signed in with an organisation picked, go and sign in. */
export async function requireSignIn() {
  const session = await loadSession();
  if (!session.signed_in || !session.organisation) {
    toSignIn();
    return null;
  }
  return session;
}

/** The server's JSON error sentence, or the status line. @param {Response} response */
export async function errorText(response) {
  try {
    return (await response.json()).error ?? `${response.status} ${response.statusText}`;
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}
