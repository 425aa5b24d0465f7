/**
 * The one way pages talk to the server's API: the session's CSRF header on every
 * state-changing request, a 401 (session ended) sends the browser to sign in, and a
 * refusal becomes an ApiError carrying the server's sentence (`{"error": ...}`).
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
 * fetch() for API resources: never cached, with the CSRF header on state-changing
 * requests; a 401 sends the browser to the sign-in page (except from that page).
 * @param {string} url
 * @param {RequestInit} [init]
 */
export async function apiFetch(url, init = {}) {
  const method = (init.method ?? 'GET').toUpperCase();
  const headers = new Headers(init.headers ?? {});
  if (!['GET', 'HEAD'].includes(method) && csrfToken) headers.set('X-CSRF-Token', csrfToken);
  const response = await fetch(url, { cache: 'no-store', ...init, headers });
  if (response.status === 401 && !location.pathname.endsWith('/signin.html')) toSignIn();
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
export async function callApi(method, path, body) {
  const text = typeof body === 'string';
  const response = await apiFetch(path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': text ? 'text/plain' : 'application/json' },
    body: body === undefined || text ? body : JSON.stringify(body),
  });
  if (!response.ok) throw new ApiError(response.status, await errorSentence(response));
  return response.status === 204 ? null : response.json();
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
