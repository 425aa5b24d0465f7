/** An API call made by a form: the server's refusal is said in the form's message line. */
import { ApiError, callApi } from './api.js';
import { say } from './dom.js';

/**
 * @param {HTMLElement} message the form's `.message` line (cleared on success)
 * @param {string} method
 * @param {string} path
 * @param {object} [body]
 * @returns {Promise<any>} the answer, or null when refused
 */
export async function callSaying(message, method, path, body) {
  try {
    const answer = await callApi(method, path, body);
    say(message, '');
    return answer ?? {};
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say(message, error.message);
    return null;
  }
}
