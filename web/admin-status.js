/**
 * Admin card "Camera status": per camera, its camera user, online (a live stream) and
 * streaming (media now), last docked, when its credential expires, and its battery ("—"
 * until the camera reports one). Redrawn every 5 s and after each fleet change.
 *
 * Test hooks: `#camera-status` (the card), `.camera-status[data-serial]` rows with
 * `.online`, `.streaming`, `.expires`, `.battery` cells.
 */
import { callApi } from './api.js';
import { el, row } from './dom.js';

const EVERY_MS = 5000;
const card = el('section', { className: 'card', id: 'camera-status' });
card.innerHTML = `
  <h2>Camera status</h2>
  <table><thead><tr><th>Serial</th><th>Camera user</th><th>Online</th><th>Streaming</th><th>Last docked</th>
    <th>Credential expires</th><th>Battery</th></tr></thead><tbody></tbody></table>`;

/** @param {string | null} time */
function when(time) {
  return time ? new Date(time).toLocaleString() : 'never';
}

/** @param {string} className @param {string} text */
function cell(className, text) {
  return el('td', { className, textContent: text });
}

export async function showStatus() {
  const { cameras } = await callApi('GET', '/api/fleet/status');
  card.querySelector('tbody').replaceChildren(...cameras.map((camera) => row([
    camera.serial,
    camera.camera_user ?? '—',
    cell('online', camera.revoked ? 'revoked' : camera.online ? 'online' : 'offline'),
    cell('streaming', camera.streaming ? 'streaming' : '—'),
    when(camera.last_docked_at),
    cell('expires', camera.credential_expires_at
      ? `${when(camera.credential_expires_at)}${camera.credential_expired ? ' (expired: dock again)' : ''}` : '—'),
    cell('battery', camera.battery === null ? '—' : `${camera.battery} %`),
  ], { className: 'camera-status', dataset: { serial: camera.serial, online: String(camera.online) } })));
}

/** @param {HTMLElement} page where the card goes */
export function startStatus(page) {
  page.append(card);
  setInterval(showStatus, EVERY_MS);
  return showStatus();
}
