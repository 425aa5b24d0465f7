/**
 * Camera → browser data-channel messages (encrypted camera_data frames): decrypting and
 * checking them. Positions: `{type: 'position', fix: true, lat, lon, accuracy, t}`, or
 * `{type: 'position', fix: false, t, last?: {lat, lon, accuracy, t}}` while the camera has
 * no GPS fix (`last`: its last fix); the camera's status
 * every second: `{type: 'status', t, battery, signal, recording, frame?: {ctr, t}}`
 * (`frame`: its last video frame's SFrame counter and capture time); a help request:
 * `{type: 'help', t}`.
 */

const decoder = new TextDecoder();

/**
 * @typedef {{fix: true, lat: number, lon: number, accuracy?: number, t: number}
 *          | {fix: false, t: number, last?: {lat: number, lon: number, accuracy?: number, t: number}}} Position
 * @typedef {{t: number, battery: number | null, signal: number | null, recording: boolean | null,
 *            frame: {ctr: number, t: number} | null}} Status
 * @typedef {{type: 'position', position: Position} | {type: 'status', status: Status}
 *          | {type: 'help', t: number}} CameraMessage
 */

/**
 * The message in a data frame, or null (not decryptable with this key, not one we know).
 * @param {import('./e2ee.js').FrameCipher} cipher
 * @param {ArrayBuffer | string} data
 * @returns {Promise<CameraMessage | null>}
 */
export async function readCameraData(cipher, data) {
  if (!(data instanceof ArrayBuffer)) return null;
  let message;
  try {
    message = JSON.parse(decoder.decode(await cipher.decryptFrame('camera_data', data)));
  } catch {
    return null; // not for us, or altered: ignored like an undecryptable media frame
  }
  const t = Number.isFinite(message?.t) ? message.t : Date.now();
  if (message?.type === 'help') return { type: 'help', t };
  if (message?.type === 'status') return { type: 'status', status: readStatus(message, t) };
  if (message?.type !== 'position') return null;
  if (message.fix === false) {
    const last = readFix(message.last ?? {}, null);
    return { type: 'position', position: last ? { fix: false, t, last } : { fix: false, t } };
  }
  const fix = readFix(message, t);
  return fix ? { type: 'position', position: { fix: true, ...fix } } : null;
}

/**
 * @param {Record<string, unknown>} message
 * @param {number | null} t its time, if it has none of its own
 */
function readFix(message, t) {
  const time = Number.isFinite(message.t) ? message.t : t;
  if (!Number.isFinite(message.lat) || !Number.isFinite(message.lon) || time === null) return null;
  const accuracy = Number.isFinite(message.accuracy) ? message.accuracy : undefined;
  return { lat: message.lat, lon: message.lon, accuracy, t: time };
}

/**
 * When a camera message was made (camera clock, ms): every one is checked for freshness.
 * @param {CameraMessage} message
 */
export function messageTime(message) {
  if (message.type === 'position') return message.position.t;
  return message.type === 'status' ? message.status.t : message.t;
}

/**
 * The position in a data message, or null.
 * @param {import('./e2ee.js').FrameCipher} cipher
 * @param {ArrayBuffer | string} data
 * @returns {Promise<Position | null>}
 */
export async function readPosition(cipher, data) {
  const message = await readCameraData(cipher, data);
  return message?.type === 'position' ? message.position : null;
}

/**
 * @param {Record<string, unknown>} message
 * @param {number} t
 * @returns {Status}
 */
function readStatus(message, t) {
  const number = (value) => (Number.isFinite(value) ? Number(value) : null);
  const frame = message.frame;
  return {
    t,
    battery: number(message.battery),
    signal: number(message.signal),
    recording: typeof message.recording === 'boolean' ? message.recording : null,
    frame: Number.isSafeInteger(frame?.ctr) && Number.isFinite(frame?.t) ? { ctr: frame.ctr, t: frame.t } : null,
  };
}
