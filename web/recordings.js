/**
 * The recordings page: the organisation's recordings grouped by camera user (refreshed
 * every ten seconds); choosing one opens its key envelope with a key this browser holds
 * and plays it (recording-player.js), its positions on a map (recording-trail.js).
 *
 * For tests: `window.bwlive` (read-only) = {ready, keys, recordings, player, playing,
 * trailMap}; `ready` resolves once the list is shown. The player section `#player`
 * carries the player's data attributes.
 */
import { ApiError, apiFetch, callApi } from './api.js';
import { ContentKeyError, openContentKey } from './content-key.js';
import { byId, showText } from './dom.js';
import { FrameCipher } from './e2ee.js';
import { loadKeys, showThumbprints } from './key-bootstrap.js';
import { RecordingPlayer } from './recording-player.js';
import { clockText, renderRecordings } from './recording-list.js';
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
};

const page = {
  list: byId('recordings'),
  section: byId('player'),
  canvas: /** @type {HTMLCanvasElement} */ (byId('picture')),
  playPause: byId('play-pause'),
  seek: /** @type {HTMLInputElement} */ (byId('seek')),
  time: byId('time'),
  status: byId('status'),
  position: byId('position'),
};
const trail = new TrailView(byId('trail-map'));

const ready = start();
exposeForTests({
  ready: () => ready,
  keys: () => state.keys,
  recordings: () => state.recordings,
  player: () => state.player,
  playing: () => state.playing,
  trailMap: () => trail.map,
});

async function start() {
  const { keys, problem } = await loadKeys();
  state.keys = keys;
  showThumbprints(byId('keys'), keys);
  showText(byId('banner'), problem);
  if (!(await requireSignIn())) return;
  if (!(await refreshList())) return;
  setInterval(refreshList, REFRESH_MS);
  page.playPause.addEventListener('click', () => {
    const player = state.player;
    if (player) player.playing ? player.pause() : player.play();
  });
  page.seek.addEventListener('input', () => state.player?.seek(Number(page.seek.value)));
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
  state.playing = id;
  for (const other of page.list.querySelectorAll('.recording')) other.setAttribute('aria-pressed', String(other === button));
  byId('player-hint').hidden = true;
  byId('player-body').hidden = false;
  page.section.dataset.state = 'loading';
  page.status.textContent = 'Loading…';
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
  page.status.textContent = '';
  const player = new RecordingPlayer(
    {
      element: page.section,
      canvas: page.canvas,
      onTick: (ticking) => showProgress(ticking, recording),
      onTrail: (points) => trail.ensureMap(points),
    },
    new FrameCipher(contentKey),
  );
  state.player = player;
  try {
    await player.load(recording, apiFetch);
  } catch (error) {
    if (state.player === player) fail(error.message);
  }
}

/** @param {string} message */
function fail(message) {
  page.section.dataset.state = 'error';
  page.status.textContent = message;
}

/**
 * @param {RecordingPlayer} player
 * @param {{id: string, camera: string}} recording the one it plays
 */
function showProgress(player, recording) {
  const position = player.position;
  page.time.textContent = `${clockText(position)} / ${clockText(player.duration)}`;
  page.playPause.textContent = player.playing ? 'Pause' : 'Play';
  if (document.activeElement !== page.seek) page.seek.value = String(position);
  const here = [...player.trail].reverse().find((point) => point.ms <= position);
  if (here) page.position.textContent = `${here.lat.toFixed(5)}, ${here.lon.toFixed(5)}`;
  trail.showUpTo(recording.id, recording.camera, player.trail, position);
}
