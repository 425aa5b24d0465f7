/**
 * A phone camera opens the acknowledgements the server relays (PROTOCOL §3), as the
 * agent does (crypto/acknowledgement.py): the sealed press must open with its sender's
 * key (kind 3), say `acknowledge`, be pressed within 30 s of this phone's clock and pass
 * the sender's replay window (the highest counter and the 64 below it).
 */
import { b64uDecode, decodeHeader } from './e2ee.js';

export const FRESH_MS = 30_000;
const WINDOW = 64n;

export class AcknowledgementOpener {
  #cipher;
  /** @type {Map<bigint, {highest: bigint, seen: Set<bigint>, lastMs: number}>} per sender KID */
  #windows = new Map();

  /** @param {import('./e2ee.js').FrameCipher} cipher the stream's */
  constructor(cipher) {
    this.#cipher = cipher;
  }

  /**
   * The operator's name, when the relayed message is a fresh, new, genuine press; else null.
   * @param {{type: string, by?: string, sealed?: string}} message
   * @param {number} nowMs
   */
  async open(message, nowMs) {
    if (message.type !== 'acknowledge' || typeof message.sealed !== 'string') return null;
    try {
      const sealed = b64uDecode(message.sealed);
      const { kid, ctr } = decodeHeader(sealed);
      const press = JSON.parse(new TextDecoder().decode(await this.#cipher.decryptFrame('operator_data', sealed)));
      if (press.type !== 'acknowledge' || !(Math.abs(nowMs - press.t) <= FRESH_MS)) return null;
      if (!this.#fresh(kid, ctr, nowMs)) return null;
    } catch {
      return null; // not sealed for this stream, altered, or not JSON: not a press
    }
    return String(message.by ?? 'an operator');
  }

  /** @param {bigint} kid @param {bigint} ctr @param {number} nowMs */
  #fresh(kid, ctr, nowMs) {
    let window = this.#windows.get(kid);
    if (!window || nowMs - window.lastMs > FRESH_MS) window = { highest: -1n, seen: new Set(), lastMs: nowMs };
    if (window.seen.has(ctr) || ctr + WINDOW < window.highest) return false;
    window.seen.add(ctr);
    if (ctr > window.highest) window.highest = ctr;
    for (const old of window.seen) if (old + WINDOW < window.highest) window.seen.delete(old);
    window.lastMs = nowMs;
    this.#windows.set(kid, window);
    return true;
  }
}
