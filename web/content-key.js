/**
 * Opening the content key of a stream or recording (its key envelope, PROTOCOL §2) with a
 * key this browser holds, with a sentence for each way it can fail.
 */
import { thumbprintOf, unwrapContentKey } from './e2ee.js';

export const NO_KEY_MESSAGE =
  'No decryption key in this browser. Open the link with key your administrator gave you.';
export const WRONG_KEY_MESSAGE = 'Frames cannot be decrypted (wrong key).';

/** The key could not be opened; `reason` is 'no-key' | 'other-key' | 'wrong-key'. */
export class ContentKeyError extends Error {
  /**
   * @param {'no-key'|'other-key'|'wrong-key'} reason
   * @param {string} message
   */
  constructor(reason, message) {
    super(message);
    this.reason = reason;
  }
}

/**
 * Unwrap an envelope with the held key whose id is its kid.
 * @param {{kid?: string} | undefined} envelope
 * @param {import('./keystore.js').KeyRecord[]} keys
 * @param {string} subject what is encrypted, for the sentences ('Stream', 'Recording')
 * @returns {Promise<import('./e2ee.js').StreamKey>} the stream key
 * @throws {ContentKeyError}
 */
export async function openContentKey(envelope, keys, subject) {
  const kid = String(envelope?.kid ?? '');
  if (keys.length === 0) throw new ContentKeyError('no-key', NO_KEY_MESSAGE);
  const record = keys.find((key) => key.keyId === kid);
  if (!record) {
    const held = keys.map((key) => key.thumbprint).join(', ');
    throw new ContentKeyError(
      'other-key',
      `${subject} encrypted to another key: ${/^[0-9a-f]{32}$/.test(kid) ? thumbprintOf(kid) : '?'} ` +
        `(kid ${kid || 'missing'}). This browser holds ${held}.`,
    );
  }
  try {
    return await unwrapContentKey(envelope, record.privateKey);
  } catch {
    throw new ContentKeyError('wrong-key', WRONG_KEY_MESSAGE);
  }
}
