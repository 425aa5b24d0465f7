/**
 * Camera → browser data-channel messages (encrypted camera_data frames): decrypting and
 * checking them. Positions: `{type: 'position', fix: true, lat, lon, accuracy, t}`, or
 * `{type: 'position', fix: false, t}` while the camera has no GPS fix.
 */

const decoder = new TextDecoder();

/**
 * @typedef {{fix: true, lat: number, lon: number, accuracy?: number, t: number}
 *          | {fix: false, t: number}} Position
 */

/**
 * The position in a data message, or null (not decryptable with this key, not a position).
 * @param {import('./e2ee.js').FrameCipher} cipher
 * @param {ArrayBuffer | string} data
 * @returns {Promise<Position | null>}
 */
export async function readPosition(cipher, data) {
  if (!(data instanceof ArrayBuffer)) return null;
  let message;
  try {
    message = JSON.parse(decoder.decode(await cipher.decryptFrame('camera_data', data)));
  } catch {
    return null; // not for us, or altered: ignored like an undecryptable media frame
  }
  if (message?.type !== 'position') return null;
  const t = Number.isFinite(message.t) ? message.t : Date.now();
  if (message.fix === false) return { fix: false, t };
  if (!Number.isFinite(message.lat) || !Number.isFinite(message.lon)) return null;
  const accuracy = Number.isFinite(message.accuracy) ? message.accuracy : undefined;
  return { fix: true, lat: message.lat, lon: message.lon, accuracy, t };
}
