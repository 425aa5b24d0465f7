/**
 * Opening a stream's content key with a key this browser holds (PROTOCOL §2), with a
 * sentence for each way it can fail.
 */
import { thumbprintOf, unwrapContentKey } from './e2ee.js';

export const NO_KEY_MESSAGE =
  'No decryption key in this browser. Open the link with key your administrator gave you.';
export const WRONG_KEY_MESSAGE = 'Frames cannot be decrypted (wrong key).';

/** The key could not be opened; `reason` is 'no-key' | 'other-key' | 'wrong-key'. */
export class StreamKeyError extends Error {
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
 * Unwrap the stream's envelope with the held key whose id is its kid.
 * @param {import('./streams.js').Stream} stream
 * @param {import('./keystore.js').KeyRecord[]} keys
 * @returns {Promise<CryptoKey>} the content key
 * @throws {StreamKeyError}
 */
export async function openStreamKey(stream, keys) {
  const envelope = stream.key_envelope;
  const kid = String(envelope?.kid ?? '');
  if (keys.length === 0) throw new StreamKeyError('no-key', NO_KEY_MESSAGE);
  const record = keys.find((key) => key.keyId === kid);
  if (!record) {
    const held = keys.map((key) => key.thumbprint).join(', ');
    throw new StreamKeyError(
      'other-key',
      `Stream encrypted to another key: ${/^[0-9a-f]{32}$/.test(kid) ? thumbprintOf(kid) : '?'} ` +
        `(kid ${kid || 'missing'}). This browser holds ${held}.`,
    );
  }
  try {
    return await unwrapContentKey(envelope, record.privateKey);
  } catch {
    throw new StreamKeyError('wrong-key', WRONG_KEY_MESSAGE);
  }
}
