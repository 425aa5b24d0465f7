/**
 * The one way pages talk to the server's API: the session's CSRF header on every
 * state-changing request, a 401 (session ended) sends the browser to sign in, and a
 * refusal becomes an ApiError carrying the server's sentence (`{"error": ...}`); the
 * embedded player (web/player/) calls another origin's server with a viewer token. A
 * console an organisation hosts on its own origin (`bwlive webclient export --console`)
 * names the server in `<meta name="bwlive-api">` and signs in to a bearer session token,
 * kept in this tab only and renewed while a page is open (docs/EMBEDDING.md).
 */

/** @type {string | null} set from the session body (session.js) */
let csrfToken = null;

/** The server refused; `status` is its HTTP status, the message its sentence. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** @param {string | null | undefined} token the session's CSRF token */
export function setCsrfToken(token) {
  csrfToken = token ?? null;
}

/**
 * A bwlive server's API as one client calls it: the console's, on its own origin with
 * the session cookie and CSRF header ({@link CONSOLE_API}), or an embedded player's, on
 * another origin with a viewer token (`Authorization: Bearer`, docs/EMBEDDING.md).
 */
export class Api {
  /** @type {string} the server's base URL, against which paths resolve */
  base;
  #token;
  #onUnauthorized;

  /**
   * @param {object} [options]
   * @param {string} [options.base] the server's base URL (default: this page's origin)
   * @param {() => (string | null)} [options.token] the viewer token to present, read at each call
   * @param {() => void} [options.onUnauthorized] what a 401 does (the console: sign in again)
   */
  constructor({ base = location.origin, token = () => null, onUnauthorized = () => {} } = {}) {
    this.base = base;
    this.#token = token;
    this.#onUnauthorized = onUnauthorized;
  }

  /** @returns {string | null} the viewer token, if this client uses one */
  get token() {
    return this.#token();
  }

  /**
   * @param {string} path a path or URL, resolved against the base
   * @returns {URL}
   */
  url(path) {
    return new URL(path, this.base);
  }

  /**
   * fetch() for API resources: never cached; with the viewer token, or with the CSRF
   * header on state-changing requests of a session.
   * @param {string} path
   * @param {RequestInit} [init]
   */
  async fetch(path, init = {}) {
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = new Headers(init.headers ?? {});
    const token = this.token;
    if (token) headers.set('Authorization', `Bearer ${token}`);
    else if (!['GET', 'HEAD'].includes(method) && csrfToken) headers.set('X-CSRF-Token', csrfToken);
    const response = await fetch(this.url(path), { cache: 'no-store', ...init, headers });
    if (response.status === 401) this.#onUnauthorized();
    return response;
  }

  /**
   * A JSON call. A string body goes as text/plain, anything else as JSON.
   * @param {string} method
   * @param {string} path
   * @param {object | string} [body]
   * @returns {Promise<any>} the parsed JSON answer (null for 204 No Content)
   * @throws {ApiError} when the server refuses
   */
  async call(method, path, body) {
    const text = typeof body === 'string';
    const response = await this.fetch(path, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': text ? 'text/plain' : 'application/json' },
      body: body === undefined || text ? body : JSON.stringify(body),
    });
    if (!response.ok) throw new ApiError(response.status, await errorSentence(response));
    return response.status === 204 ? null : response.json();
  }
}

/** The server the console's pages talk to: this origin, or the one a self-hosted copy names. */
const CONSOLE_BASE = globalThis.document?.querySelector('meta[name="bwlive-api"]')?.getAttribute('content') || location.origin;
/** Whether the console is hosted on an origin of its own: then it signs in to a bearer session token. */
const BEARER_CONSOLE = new URL(CONSOLE_BASE).origin !== location.origin;
const SESSION_TOKEN = 'bwlive.session-token'; // in sessionStorage: this tab only, gone when it closes
const RENEW_EVERY_MS = 120_000; // the server ends a bearer session 10 minutes after its last renewal
/** @type {ReturnType<typeof setInterval> | undefined} */
let renewal;

/** The console's pages: the session; a 401 sends the browser to sign in (except from that page). */
export const CONSOLE_API = new Api({
  base: CONSOLE_BASE,
  token: () => (BEARER_CONSOLE ? sessionStorage.getItem(SESSION_TOKEN) : null),
  onUnauthorized: () => {
    if (BEARER_CONSOLE) sessionStorage.removeItem(SESSION_TOKEN);
    if (!location.pathname.endsWith('/signin.html')) toSignIn();
  },
});

/**
 * A self-hosted console keeps the bearer token a sign-in answered and renews the session
 * while the page is open; a session body that is not signed in forgets it.
 * @param {{signed_in: boolean, session_token?: string}} session
 */
export function keepSessionToken(session) {
  if (!BEARER_CONSOLE) return;
  if (session.session_token) sessionStorage.setItem(SESSION_TOKEN, session.session_token);
  if (!session.signed_in) {
    sessionStorage.removeItem(SESSION_TOKEN);
    return;
  }
  renewal ??= setInterval(() => CONSOLE_API.call('POST', '/api/session/renew').catch(() => {}), RENEW_EVERY_MS);
}

/**
 * {@link Api.fetch} of the console's pages.
 * @param {string} url
 * @param {RequestInit} [init]
 */
export function apiFetch(url, init = {}) {
  return CONSOLE_API.fetch(url, init);
}

/**
 * {@link Api.call} of the console's pages.
 * @param {string} method
 * @param {string} path
 * @param {object | string} [body]
 */
export function callApi(method, path, body) {
  return CONSOLE_API.call(method, path, body);
}

/**
 * The server's sentence from a JSON error body, else `fallback`.
 * @param {Response} response
 * @param {string} [fallback]
 */
export async function errorSentence(response, fallback = `${response.status} ${response.statusText}`) {
  try {
    const { error } = await response.json();
    if (typeof error === 'string') return error;
  } catch {
    // not JSON
  }
  return fallback;
}

/** Go to the sign-in page, coming back here afterwards. */
export function toSignIn() {
  location.assign(`/web/signin.html?next=${encodeURIComponent(location.pathname)}`);
}
