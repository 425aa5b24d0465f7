/**
 * The recordings page: the organisation's recordings grouped by camera user (refreshed
 * every ten seconds); choosing one opens its key envelope with a key this browser holds
 * and plays it (recording-player.js: fetched on demand, speed, frame steps), its
 * timeline with what is held in memory and its markers (recording-timeline.js,
 * recording-markers.js), the time of day, its positions on a map (recording-trail.js) and
 * its evidence: verified or what is wrong, and the package to download (recording-evidence.js).
 *
 * For tests: `window.bwlive` (read-only) = {ready, keys, recordings, player, playing,
 * markers, trailMap}; `ready` resolves once the list is shown. The player section
 * `#player` carries the player's data attributes and `data-markers="loaded"`.
 */
import { ApiError, apiFetch, callApi } from './api.js';
import { ContentKeyError, openContentKey } from './content-key.js';
import { byId, showText } from './dom.js';
import { FrameCipher } from './e2ee.js';
import { loadKeys, showThumbprints } from './key-bootstrap.js';
import { showEvidence } from './recording-evidence.js';
import { RecordingPlayer } from './recording-player.js';
import { clockText, renderRecordings } from './recording-list.js';
import { loadMarkers } from './recording-markers.js';
import { Timeline, timeOfDay } from './recording-timeline.js';
import { TrailView } from './recording-trail.js';
import { requireSignIn } from './session.js';
import { exposeForTests } from './test-view.js';

const REFRESH_MS = 10_000;

const state = {
  /** @type {import('./keystore.js').KeyRecord[]} */
  keys: [],
  /** @type {import('./recording-list.js').Recording[]} */
  recordings: [],
  /** @type {RecordingPlayer | null} */
  player: null,
  /** @type {string | null} the id of the recording in the player */
  playing: null,
  /** @type {import('./recording-markers.js').Markers | null} the playing recording's */
  markers: null,
  /** whether the signed-in role may download evidence packages (operators and admins) */
  mayExport: false,
};

const page = {
  list: byId('recordings'),
  section: byId('player'),
  canvas: /** @type {HTMLCanvasElement} */ (byId('picture')),
  playPause: byId('play-pause'),
  stepBack: /** @type {HTMLButtonElement} */ (byId('step-back')),
  stepForward: /** @type {HTMLButtonElement} */ (byId('step-forward')),
  seek: /** @type {HTMLInputElement} */ (byId('seek')),
  speed: /** @type {HTMLSelectElement} */ (byId('speed')),
  time: byId('time'),
  timeOfDay: byId('time-of-day'),
  status: byId('status'),
  position: byId('position'),
};
const trail = new TrailView(byId('trail-map'));
const timeline = new Timeline(byId('timeline'), (ms) => state.player?.seek(ms));

const ready = start();
exposeForTests({
  ready: () => ready,
  keys: () => state.keys,
  recordings: () => state.recordings,
  player: () => state.player,
  playing: () => state.playing,
  markers: () => state.markers,
  trailMap: () => trail.map,
});

async function start() {
  const { keys, problem } = await loadKeys();
  state.keys = keys;
  showThumbprints(byId('keys'), keys);
  showText(byId('banner'), problem);
  const session = await requireSignIn();
  if (!session) return;
  state.mayExport = session.role === 'operator' || session.role === 'admin';
  if (!(await refreshList())) return;
  setInterval(refreshList, REFRESH_MS);
  page.playPause.addEventListener('click', () => {
    const player = state.player;
    if (player) player.playing ? player.pause() : player.play();
  });
  page.seek.addEventListener('input', () => state.player?.seek(Number(page.seek.value)));
  page.speed.addEventListener('change', () => state.player?.setSpeed(Number(page.speed.value)));
  page.stepBack.addEventListener('click', () => state.player?.step(-1));
  page.stepForward.addEventListener('click', () => state.player?.step(1));
}

/**
 * Fetch the list; redraw it when recordings came, went or finished.
 * @returns {Promise<boolean>} false when the server refused
 */
async function refreshList() {
  let recordings;
  try {
    ({ recordings } = await callApi('GET', '/api/recordings'));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showText(byId('banner'), `The recordings could not be listed: ${error.message}`);
    return false;
  }
  const summary = (list) => list.map((r) => `${r.id}:${r.state}`).join();
  if (summary(recordings) !== summary(state.recordings) || !page.list.querySelector('.recording')) {
    state.recordings = recordings;
    renderRecordings(page.list, recordings, state.playing, open);
  }
  return true;
}

/**
 * Fetch a recording's metadata, open its content key and play it.
 * @param {string} id
 * @param {HTMLButtonElement} button
 */
async function open(id, button) {
  state.player?.close();
  state.player = null;
  state.markers = null;
  state.playing = id;
  delete page.section.dataset.markers;
  delete page.section.dataset.error;
  for (const other of page.list.querySelectorAll('.recording')) other.setAttribute('aria-pressed', String(other === button));
  byId('player-hint').hidden = true;
  byId('player-body').hidden = false;
  page.section.dataset.state = 'loading';
  page.status.textContent = 'Loading…';
  showEvidence(id, state.mayExport);
  let recording;
  let contentKey;
  try {
    recording = await callApi('GET', `/api/recordings/${encodeURIComponent(id)}`);
    byId('player-title').textContent = `${recording.camera} · ${new Date(recording.started_at).toLocaleString()}`;
    contentKey = await openContentKey(recording.key_envelope, state.keys, 'Recording');
  } catch (error) {
    if (!(error instanceof ApiError || error instanceof ContentKeyError)) throw error;
    return fail(error.message);
  }
  page.seek.max = String(recording.duration_ms);
  page.speed.value = '1';
  page.status.textContent = '';
  const startedAt = new Date(recording.started_at);
  const cipher = new FrameCipher(contentKey);
  timeline.setMarkers(recording.duration_ms, null, startedAt);
  const player = new RecordingPlayer(
    { element: page.section, canvas: page.canvas, onTick: (ticking) => showProgress(ticking, recording, startedAt) },
    cipher,
  );
  state.player = player;
  showMarkers(recording, startedAt, cipher, player);
  try {
    await player.load(recording, apiFetch);
  } catch (error) {
    if (state.player === player) fail(error.message);
  }
}

/**
 * Put the recording's acknowledgements and GPS losses on the timeline, its positions on the map.
 * @param {{id: string, duration_ms: number}} recording
 * @param {Date} startedAt
 * @param {FrameCipher} cipher
 * @param {RecordingPlayer} player the one they are for
 */
async function showMarkers(recording, startedAt, cipher, player) {
  let markers;
  try {
    markers = await loadMarkers(recording.id, cipher);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (state.player === player) page.status.textContent = `No markers: ${error.message}`;
    return;
  }
  if (state.player !== player) return;
  state.markers = markers;
  timeline.setMarkers(recording.duration_ms, markers, startedAt);
  page.section.dataset.markers = 'loaded';
  trail.ensureMap(markers.trail);
}

/** @param {string} message */
function fail(message) {
  page.section.dataset.state = 'error';
  page.status.textContent = message;
}

/**
 * @param {RecordingPlayer} player
 * @param {{id: string, camera: string}} recording the one it plays
 * @param {Date} startedAt
 */
function showProgress(player, recording, startedAt) {
  const position = player.position;
  page.time.textContent = `${clockText(position)} / ${clockText(player.duration)}`;
  page.timeOfDay.textContent = timeOfDay(startedAt, position);
  page.playPause.textContent = player.playing ? 'Pause' : 'Play';
  page.stepBack.disabled = page.stepForward.disabled = player.playing;
  if (page.section.dataset.error) page.status.textContent = page.section.dataset.error;
  if (document.activeElement !== page.seek) page.seek.value = String(position);
  timeline.showBuffered(player.buffered);
  const points = state.markers?.trail ?? [];
  const here = points.findLast((point) => point.ms <= position);
  if (here) page.position.textContent = `${here.lat.toFixed(5)}, ${here.lon.toFixed(5)}`;
  trail.showUpTo(recording.id, recording.camera, points, position);
}
