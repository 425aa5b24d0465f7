/**
 * JSON calls to the server's API (with the session's CSRF header); a refusal becomes an
 * Error carrying the server's sentence and `status`.
 */
import { apiFetch, errorText } from './session.js';

/**
 * @param {string} method
 * @param {string} path
 * @param {object} [body]
 * @returns {Promise<any>} the parsed JSON answer
 */
export async function callApi(method, path, body) {
  const response = await apiFetch(path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    const error = new Error(await errorText(response));
    error.status = response.status;
    throw error;
  }
  return response.json();
}
