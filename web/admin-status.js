/**
 * Admin card "Camera status": per camera, its camera user, online (a live stream) and
 * streaming (media now), last docked, when its credential expires, and its battery and
 * signal with when the camera reported them. Redrawn every 5 s and after each fleet change.
 *
 * The battery and signal are in the camera's status message, end-to-end encrypted: the
 * server cannot read them, so this page opens them as the map does (camera-feeds.js: a
 * data-only subscription per live stream, its messages checked against the camera's
 * signatures) with a key this browser holds. Without one, the cell says so.
 *
 * Test hooks: `#camera-status` (the card), `.camera-status[data-serial]` rows with
 * `.online`, `.streaming`, `.expires`, `.battery` (`data-value`: the percent, once
 * reported), `.signal` (`data-value`: dBm) and `.reported` cells.
 */
import { callApi } from './api.js';
import { CameraFeeds } from './camera-feeds.js';
import { checkClock } from './clock.js';
import { el, row } from './dom.js';
import { listKeys } from './keystore.js';

const EVERY_MS = 5000;
const NO_KEY = 'no key in this browser';
const card = el('section', { className: 'card', id: 'camera-status' });
card.innerHTML = `
  <h2>Camera status</h2>
  <table><thead><tr><th>Serial</th><th>Camera user</th><th>Online</th><th>Streaming</th><th>Last docked</th>
    <th>Credential expires</th><th>Battery</th><th>Signal</th><th>Reported</th></tr></thead><tbody></tbody></table>
  <p class="hint">Battery and signal travel end-to-end encrypted: this page opens them with the
    end-to-end key held in this browser (open the link with key here to see them).</p>`;

/**
 * What is known of each live stream's camera: its last status, or why there is none.
 * @type {Map<string, {status: import('./camera-data.js').Status} | {problem: string}>}
 */
const reports = new Map();
/** @type {import('./keystore.js').KeyRecord[]} */
let keys = [];
/** @type {import('./clock.js').ClockCheck | null} */
let clock = null;

/**
 * @param {string} streamId
 * @param {{status: import('./camera-data.js').Status} | {problem: string}} known
 */
function report(streamId, known) {
  reports.set(streamId, known);
  const shown = card.querySelector(`tr[data-stream-id="${CSS.escape(streamId)}"]`);
  if (!shown) return;
  shown.querySelectorAll('.signal, .reported').forEach((node) => node.remove());
  shown.querySelector('.battery').replaceWith(...telemetry(streamId));
}

const feeds = new CameraFeeds({
  onMessage: (stream, message) => {
    if (message.type === 'status') report(stream.id, { status: message.status });
  },
  onFailed: (stream, error) => report(stream.id, { problem: `not verified: ${error.message}` }),
  onNoKey: (stream) => report(stream.id, { problem: NO_KEY }),
  clock: () => clock,
});

/** @param {string | null} time */
function when(time) {
  return time ? new Date(time).toLocaleString() : 'never';
}

/**
 * @param {string} className
 * @param {string} text
 * @param {number | null} [value] for `data-value`
 */
function cell(className, text, value = null) {
  return el('td', { className, textContent: text, dataset: value === null ? {} : { value: String(value) } });
}

/**
 * The battery, signal and reported cells of a camera.
 * @param {string | null} streamId its live stream
 */
function telemetry(streamId) {
  const known = streamId ? reports.get(streamId) : undefined;
  const only = (text) => [cell('battery', text), cell('signal', '—'), cell('reported', '—')];
  if (!streamId) return only('—');
  if (keys.length === 0) return only(NO_KEY);
  if (!known) return only('waiting for the camera…');
  if ('problem' in known) return only(known.problem);
  const { battery, signal, t } = known.status;
  return [
    cell('battery', battery === null ? 'not reported' : `${battery} %`, battery),
    cell('signal', signal === null ? 'not reported' : `${signal} dBm`, signal),
    cell('reported', new Date(t).toLocaleTimeString()),
  ];
}

export async function showStatus() {
  const [{ cameras }, { streams }] = await Promise.all([
    callApi('GET', '/api/fleet/status'),
    callApi('GET', '/api/streams'),
  ]);
  const live = new Set(cameras.map((camera) => camera.stream_id).filter(Boolean));
  for (const id of reports.keys()) if (!live.has(id)) reports.delete(id);
  feeds.follow(streams.filter((stream) => live.has(stream.id)), keys);
  card.querySelector('tbody').replaceChildren(...cameras.map((camera) => row([
    camera.serial,
    camera.camera_user ?? '—',
    cell('online', camera.revoked ? 'revoked' : camera.online ? 'online' : 'offline'),
    cell('streaming', camera.streaming ? 'streaming' : '—'),
    when(camera.last_docked_at),
    cell('expires', camera.credential_expires_at
      ? `${when(camera.credential_expires_at)}${camera.credential_expired ? ' (expired: dock again)' : ''}` : '—'),
    ...telemetry(camera.stream_id),
  ], {
    className: 'camera-status',
    dataset: { serial: camera.serial, online: String(camera.online), ...(camera.stream_id ? { streamId: camera.stream_id } : {}) },
  })));
}

/** @param {HTMLElement} page where the card goes */
export async function startStatus(page) {
  page.append(card);
  [keys, clock] = await Promise.all([listKeys().catch(() => []), checkClock()]);
  addEventListener('pagehide', () => feeds.close());
  setInterval(showStatus, EVERY_MS);
  return showStatus();
}
