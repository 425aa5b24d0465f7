/**
 * Is this computer's clock close enough to the server's to play (SPEC §3, Clocks)?
 * A few round trips to `GET /api/time`; the one with the shortest round trip gives the
 * offset, NTP style: client midpoint − server time.
 */
import { CONSOLE_API } from './api.js';

/**
 * @typedef {{offsetMs: number | null, roundTripMs: number | null, toleranceS: number | null,
 *   ok: boolean, message: string | null}} ClockCheck
 *   offsetMs > 0: this computer is ahead. offsetMs null: the server could not be asked
 *   (then playing is not blocked; the server refuses what needs refusing).
 */

/**
 * @param {number} [samples]
 * @param {import('./api.js').Api} [api] the server, as this page calls it
 * @returns {Promise<ClockCheck>}
 */
export async function checkClock(samples = 3, api = CONSOLE_API) {
  let best = null;
  for (let i = 0; i < samples; i++) {
    try {
      const sent = Date.now();
      const response = await api.fetch('/api/time');
      const body = response.ok ? await response.json() : null;
      const received = Date.now();
      if (!Number.isFinite(body?.now_ms)) continue; // refused (an expired token): the samples that arrive decide
      const sample = { offsetMs: (sent + received) / 2 - body.now_ms, roundTripMs: received - sent, toleranceS: body.clock_tolerance_s };
      if (!best || sample.roundTripMs < best.roundTripMs) best = sample;
    } catch {
      // unreachable for now: the samples that arrive decide
    }
  }
  if (!best) return { offsetMs: null, roundTripMs: null, toleranceS: null, ok: true, message: null };
  const ok = Math.abs(best.offsetMs) <= best.toleranceS * 1000;
  return { ...best, ok, message: ok ? null : clockMessage(best.offsetMs, best.toleranceS) };
}

/**
 * @param {number} offsetMs
 * @param {number} toleranceS
 */
function clockMessage(offsetMs, toleranceS) {
  const seconds = Math.round(Math.abs(offsetMs) / 1000);
  const direction = offsetMs > 0 ? 'ahead of' : 'behind';
  return `This computer's clock is ${seconds} s ${direction} the server. Playing is blocked until it is ` +
    `within ${toleranceS} s: turn on automatic time (NTP) and reload.`;
}
