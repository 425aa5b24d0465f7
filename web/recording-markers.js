/**
 * What a recording's timeline marks, from `GET /api/recordings/{id}/markers`:
 * acknowledgements (who, when), and the camera's positions, which the server hands over
 * encrypted: decrypted here, they are the map's trail, and the stretches where the camera
 * reported no GPS fix become "position lost" ranges.
 */
import { callApi } from './api.js';
import { readPosition } from './camera-data.js';
import { b64uDecode } from './e2ee.js';

/**
 * @typedef {{ms: number, lat: number, lon: number}} Point
 * @typedef {{ms: number, at: string, by: string}} Acknowledgement
 * @typedef {{acknowledgements: Acknowledgement[], trail: Point[], gpsLost: [number, number][]}} Markers
 */

/**
 * @param {string} recordingId
 * @param {import('./e2ee.js').FrameCipher} cipher the recording's content key
 * @returns {Promise<Markers>}
 */
export async function loadMarkers(recordingId, cipher) {
  const { acknowledgements, positions } = await callApi('GET', `/api/recordings/${encodeURIComponent(recordingId)}/markers`);
  const trail = [];
  const gpsLost = [];
  let lostSince = null;
  for (const { ms, data } of positions) {
    const position = await readPosition(cipher, b64uDecode(data).buffer);
    if (!position) continue;
    if (!position.fix) {
      lostSince ??= ms;
      continue;
    }
    if (lostSince !== null) gpsLost.push([lostSince, ms]);
    lostSince = null;
    trail.push({ ms, lat: position.lat, lon: position.lon });
  }
  if (lostSince !== null) gpsLost.push([lostSince, positions[positions.length - 1].ms + 1000]);
  return { acknowledgements, trail, gpsLost };
}
