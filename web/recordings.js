/**
 * The recordings page: the organisation's recordings grouped by camera user; choosing one
 * opens its key envelope with a key this browser holds and plays it (recording-player.js).
 *
 * The list is refreshed every ten seconds. For inspection (tests): `window.bwlive =
 * {ready, keys, recordings, player, playing}`; `ready` resolves once the list is shown.
 * Recording buttons carry `data-recording-id`; the player section `#player` carries the
 * player's data attributes.
 */
import { FrameCipher, thumbprintOf, unwrapContentKey } from './e2ee.js';
import { importFromLocationHash, listKeys } from './keystore.js';
import { CameraMap } from './map.js';
import { RecordingPlayer } from './recording-player.js';
import { apiFetch, errorText, requireSignIn } from './session.js';
import { NO_KEY_MESSAGE } from './tile.js';

const REFRESH_MS = 10_000;

const bwlive = {
  /** @type {Promise<void>} */
  ready: null,
  /** @type {import('./keystore.js').KeyRecord[]} */
  keys: [],
  /** @type {object[]} */
  recordings: [],
  /** @type {RecordingPlayer | null} */
  player: null,
  /** @type {string | null} the id of the recording in the player */
  playing: null,
};
window.bwlive = bwlive;

const page = {
  keys: document.getElementById('keys'),
  banner: document.getElementById('banner'),
  list: document.getElementById('recordings'),
  section: document.getElementById('player'),
  hint: document.getElementById('player-hint'),
  body: document.getElementById('player-body'),
  title: document.getElementById('player-title'),
  canvas: document.getElementById('picture'),
  playPause: document.getElementById('play-pause'),
  seek: document.getElementById('seek'),
  time: document.getElementById('time'),
  status: document.getElementById('status'),
  trailMap: document.getElementById('trail-map'),
  position: document.getElementById('position'),
};

bwlive.ready = start();

async function start() {
  await loadKeys();
  if (!(await requireSignIn())) return;
  if (!(await refreshList())) return;
  setInterval(refreshList, REFRESH_MS);
  page.playPause.addEventListener('click', () => {
    const player = bwlive.player;
    if (player) player.playing ? player.pause() : player.play();
  });
  page.seek.addEventListener('input', () => bwlive.player?.seek(Number(page.seek.value)));
}

/**
 * Fetch the list; redraw it when recordings came, went or finished.
 * @returns {Promise<boolean>} false when the server refused
 */
async function refreshList() {
  const response = await apiFetch('/api/recordings');
  if (!response.ok) {
    showBanner(`The recordings could not be listed: ${await errorText(response)}`);
    return false;
  }
  const recordings = (await response.json()).recordings;
  const summary = (list) => list.map((r) => `${r.id}:${r.state}`).join();
  if (summary(recordings) !== summary(bwlive.recordings) || !page.list.querySelector('.recording')) {
    bwlive.recordings = recordings;
    showList(recordings);
  }
  return true;
}

async function loadKeys() {
  try {
    await importFromLocationHash();
  } catch (error) {
    showBanner(`The key in this link could not be used: ${error.message}.`);
  }
  try {
    bwlive.keys = await listKeys();
  } catch {
    showBanner('This browser cannot store keys (IndexedDB is unavailable).');
  }
  page.keys.replaceChildren(
    ...bwlive.keys.map((key) => Object.assign(document.createElement('span'), { className: 'thumbprint', textContent: key.thumbprint })),
  );
  page.keys.hidden = bwlive.keys.length === 0;
  if (bwlive.keys.length === 0) showBanner(NO_KEY_MESSAGE);
}

/** @param {string | null} message */
function showBanner(message) {
  page.banner.textContent = message ?? '';
  page.banner.hidden = !message;
}

/** @param {{id: string, camera: string, started_at: string, duration_ms: number, state: string}[]} recordings */
function showList(recordings) {
  if (recordings.length === 0) {
    page.list.replaceChildren(Object.assign(document.createElement('p'), { className: 'stream-empty', textContent: 'No recordings.' }));
    return;
  }
  const byCamera = new Map();
  for (const recording of recordings) {
    if (!byCamera.has(recording.camera)) byCamera.set(recording.camera, []);
    byCamera.get(recording.camera).push(recording);
  }
  const groups = [...byCamera.keys()].sort((a, b) => a.localeCompare(b)).map((camera) => {
    const items = byCamera.get(camera).map((recording) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'recording';
      button.dataset.recordingId = recording.id;
      button.setAttribute('aria-pressed', String(recording.id === bwlive.playing));
      const when = new Date(recording.started_at).toLocaleString();
      const length = recording.state === 'complete' ? clockText(recording.duration_ms) : 'recording…';
      button.append(when, document.createElement('br'), Object.assign(document.createElement('small'), { textContent: length }));
      button.addEventListener('click', () => open(recording.id, button));
      const item = document.createElement('li');
      item.append(button);
      return item;
    });
    const list = document.createElement('ul');
    list.append(...items);
    return [Object.assign(document.createElement('h3'), { textContent: camera }), list];
  });
  page.list.replaceChildren(...groups.flat());
}

/**
 * Fetch a recording's metadata, open its content key and play it.
 * @param {string} id
 * @param {HTMLButtonElement} button
 */
async function open(id, button) {
  bwlive.player?.close();
  bwlive.player = null;
  bwlive.playing = id;
  for (const other of page.list.querySelectorAll('.recording')) other.setAttribute('aria-pressed', String(other === button));
  page.hint.hidden = true;
  page.body.hidden = false;
  page.section.dataset.state = 'loading';
  page.status.textContent = 'Loading…';
  const response = await apiFetch(`/api/recordings/${encodeURIComponent(id)}`);
  if (!response.ok) return fail(await errorText(response));
  const recording = await response.json();
  page.title.textContent = `${recording.camera} · ${new Date(recording.started_at).toLocaleString()}`;
  const kid = String(recording.key_envelope?.kid ?? '');
  const record = bwlive.keys.find((key) => key.keyId === kid);
  if (!record) {
    return fail(bwlive.keys.length === 0 ? NO_KEY_MESSAGE
      : `This recording is encrypted to another key (${/^[0-9a-f]{32}$/.test(kid) ? thumbprintOf(kid) : kid}).`);
  }
  let contentKey;
  try {
    contentKey = await unwrapContentKey(recording.key_envelope, record.privateKey);
  } catch (error) {
    return fail(error.message);
  }
  page.seek.max = String(recording.duration_ms);
  page.status.textContent = '';
  const player = new RecordingPlayer(
    { element: page.section, canvas: page.canvas, onTick: showProgress, onTrail: drawTrail },
    new FrameCipher(contentKey),
  );
  bwlive.player = player;
  try {
    await player.load(recording, apiFetch);
  } catch (error) {
    if (bwlive.player === player) fail(error.message);
  }
}

/** @param {string} message */
function fail(message) {
  page.section.dataset.state = 'error';
  page.status.textContent = message;
}

/** @param {RecordingPlayer} player */
function showProgress(player) {
  const position = player.position;
  page.time.textContent = `${clockText(position)} / ${clockText(player.duration)}`;
  page.playPause.textContent = player.playing ? 'Pause' : 'Play';
  if (document.activeElement !== page.seek) page.seek.value = String(position);
  const here = [...player.trail].reverse().find((point) => point.ms <= position);
  if (here) page.position.textContent = `${here.lat.toFixed(5)}, ${here.lon.toFixed(5)}`;
  showOnMap(player, position);
}

/** The live map's marker and 30-second trail, replayed up to the playback position. */
let trailMap = null;
let mapped = { id: null, upTo: -1 };

/** @param {{lat: number, lon: number}[]} points */
async function drawTrail(points) {
  if (trailMap || !points.length || typeof L === 'undefined') return;
  let settings = { tile_url: '', tile_attribution: '' };
  try {
    const response = await apiFetch('/api/console/settings');
    if (response.ok) settings = await response.json();
  } catch {
    // the offline grid will do
  }
  trailMap ??= new CameraMap(page.trailMap, settings);
  bwlive.trailMap = trailMap;
  trailMap.setTrails(true);
  trailMap.shown();
}

/**
 * @param {RecordingPlayer} player
 * @param {number} position ms into the recording
 */
function showOnMap(player, position) {
  if (!trailMap) return;
  const id = bwlive.playing ?? 'recording';
  const points = player.trail.filter((point) => point.ms <= position);
  if (mapped.id === id && mapped.upTo === points.length) return;
  if (mapped.id !== id || points.length < mapped.upTo) {
    trailMap.retain(new Set()); // another recording, or a seek back: replay from the start
    mapped = { id, upTo: 0 };
  }
  for (const point of points.slice(mapped.upTo)) {
    trailMap.update(id, page.title.textContent.split(' · ')[0], { lat: point.lat, lon: point.lon, fix: true, t: point.ms });
  }
  mapped.upTo = points.length;
}

/** @param {number} ms */
function clockText(ms) {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}
