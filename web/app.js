/**
 * The operator's console: the keys this browser holds, the live list of active streams,
 * up to four tiles (your own pick, or a group's members), the shared groups, and the map.
 *
 * For inspection (tests, curious operators): `window.bwlive = {ready, keys, session,
 * streams, tiles, lastPositions, groups, map}`; `ready` resolves once the keys are loaded, `tiles`
 * maps a stream id to its Tile, `lastPositions` a stream id to its camera's last
 * `{lat, lon, accuracy, t}`, `groups` is the GroupsPanel, `map` the CameraMap once the
 * map was first shown. Tile elements carry `data-stream-id`, `data-state` and
 * `data-error` (see tile.js). The page's Content-Security-Policy forbids eval, so
 * Playwright's string predicates (wait_for_function) need a context with bypass_csp;
 * selectors such as `.tile[data-state=live]` work as they are.
 */
import { callApi } from './api.js';
import { checkClock } from './clock.js';
import { CAMERA_TYPE, GroupsPanel, acceptCameras } from './groups.js';
import { importFromLocationHash, listKeys } from './keystore.js';
import { CameraMap } from './map.js';
import { askPassphrase, closePassphrase } from './passphrase.js';
import { PositionFeeds } from './positions.js';
import { requireSignIn } from './session.js';
import { NO_KEY_MESSAGE } from './streamkey.js';
import { watchStreams } from './streams.js';
import { Tile } from './tile.js';

const MAX_TILES = 4;
const LOCATE_WAIT_MS = 10_000;

const page = {
  keys: document.getElementById('keys'),
  banner: document.getElementById('banner'),
  clockBanner: document.getElementById('clock-banner'),
  connection: document.getElementById('connection'),
  streams: document.getElementById('streams'),
  tileLimit: document.getElementById('tile-limit'),
  tiles: document.getElementById('tiles'),
  gridTitle: document.getElementById('grid-title'),
  views: { live: document.getElementById('view-live'), map: document.getElementById('view-map') },
  mapElement: document.getElementById('map'),
};

const bwlive = {
  /** @type {Promise<void>} */
  ready: null,
  /** @type {import('./keystore.js').KeyRecord[]} */
  keys: [],
  /** @type {import('./streams.js').Stream[]} */
  streams: [],
  /** @type {Record<string, Tile>} */
  tiles: {},
  /** @type {Record<string, import('./tile.js').Position>} */
  lastPositions: {},
  /** @type {import('./clock.js').ClockCheck | null} this computer's clock against the server's */
  clock: null,
  groups: new GroupsPanel(
    {
      list: document.getElementById('groups'),
      form: /** @type {HTMLFormElement} */ (document.getElementById('new-group')),
      message: document.getElementById('groups-message'),
    },
    showGroup,
  ),
  /** @type {CameraMap | null} */
  map: null,
};
window.bwlive = bwlive;

const feeds = new PositionFeeds((stream, position) => bwlive.map?.update(stream.id, stream.camera, position));

/** The name shown to everyone when this operator acknowledges a stream: the signed-in user's. */
function currentOperatorName() {
  return bwlive.session?.user?.name ?? '';
}

for (const button of document.querySelectorAll('.nav-view')) {
  button.addEventListener('click', () => showView(button.dataset.view));
}
acceptCameras(page.tiles, (camera) => {
  const stream = bwlive.streams.find((candidate) => candidate.camera === camera);
  if (stream) openTile(stream);
});

bwlive.ready = loadKeys();
bwlive.ready.then(requireSignIn).then(async (session) => {
  if (!session) return;
  bwlive.session = session;
  bwlive.clock = await checkClock();
  page.clockBanner.textContent = bwlive.clock.message ?? '';
  page.clockBanner.hidden = bwlive.clock.ok;
  watchStreams({ onStreams, onGroups: (groups) => bwlive.groups.set(groups), onStatus });
  addEventListener('pagehide', () => {
    Object.values(bwlive.tiles).forEach((tile) => tile.close());
    feeds.close();
  });
});

/** Take the key from a link with key, if any, then show what this browser holds. */
async function loadKeys() {
  let problem = null;
  try {
    await importFromLocationHash({ askPassphrase });
  } catch (error) {
    problem = `The key in this link could not be used: ${error.message}.`;
  } finally {
    closePassphrase();
  }
  try {
    bwlive.keys = await listKeys();
  } catch {
    problem = 'This browser cannot store keys (IndexedDB is unavailable).';
  }
  page.keys.replaceChildren(
    ...bwlive.keys.map((key) => {
      const node = document.createElement('span');
      node.className = 'thumbprint';
      node.dataset.keyId = key.keyId;
      node.title = `Key id ${key.keyId}, added ${new Date(key.addedAt).toLocaleString()}`;
      node.textContent = key.thumbprint;
      return node;
    }),
  );
  page.keys.hidden = bwlive.keys.length === 0;
  const message = problem ?? (bwlive.keys.length === 0 ? NO_KEY_MESSAGE : null);
  page.banner.textContent = message ?? '';
  page.banner.hidden = message === null;
}

/** @param {import('./streams.js').Stream[]} streams */
function onStreams(streams) {
  bwlive.streams = streams;
  const byId = new Map(streams.map((stream) => [stream.id, stream]));
  for (const tile of Object.values(bwlive.tiles)) {
    const stream = byId.get(tile.streamId);
    if (stream) tile.setAcknowledged(stream.acknowledged);
    else tile.end();
  }
  bwlive.groups.setLive(new Set(streams.map((stream) => stream.camera)));
  if (bwlive.map) {
    bwlive.map.retain(new Set(byId.keys()));
    feeds.follow(streams, bwlive.keys);
  }
  if (bwlive.groups.active) fillWithGroup(bwlive.groups.active);
  renderStreams();
}

/**
 * @param {boolean} connected
 * @param {number} [retryInMs]
 */
function onStatus(connected, retryInMs) {
  page.connection.dataset.connected = String(connected);
  page.connection.textContent = connected
    ? 'Connected'
    : `Server unreachable, retrying in ${Math.round(retryInMs / 1000)} s`;
  if (connected) bwlive.groups.load();
}

function renderStreams() {
  const full = Object.keys(bwlive.tiles).length >= MAX_TILES;
  page.tileLimit.hidden = !full;
  if (bwlive.streams.length === 0) {
    const empty = document.createElement('li');
    empty.className = 'stream-empty';
    empty.textContent = 'No active streams.';
    page.streams.replaceChildren(empty);
    return;
  }
  const heldKeys = new Set(bwlive.keys.map((key) => key.keyId));
  page.streams.replaceChildren(
    ...bwlive.streams.map((stream) => {
      const open = stream.id in bwlive.tiles;
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'stream';
      button.dataset.streamId = stream.id;
      button.setAttribute('aria-pressed', String(open));
      button.disabled = full && !open;
      button.draggable = true;
      button.title = 'Click to watch; drag onto the grid or a group';
      button.ondragstart = (event) => {
        event.dataTransfer.setData(CAMERA_TYPE, stream.camera);
        event.dataTransfer.effectAllowed = 'copy';
      };
      button.onclick = () => (open ? bwlive.tiles[stream.id].element.scrollIntoView() : openTile(stream));
      const camera = document.createElement('span');
      camera.className = 'stream-camera';
      camera.textContent = stream.camera;
      const started = document.createElement('time');
      started.className = 'stream-started';
      started.dateTime = stream.started_at;
      started.textContent = `since ${formatTime(stream.started_at)}`;
      button.append(camera, started);
      if (stream.acknowledged) {
        const ack = document.createElement('span');
        ack.className = 'stream-ack';
        ack.textContent = `✓ ${stream.acknowledged.by} ${formatTime(stream.acknowledged.at)}`;
        ack.title = `Acknowledged by ${stream.acknowledged.by} at ${formatTime(stream.acknowledged.at)}`;
        button.append(ack);
      }
      if (!heldKeys.has(stream.key_envelope?.kid)) {
        const tag = document.createElement('span');
        tag.className = 'stream-tag';
        tag.textContent = 'no key';
        tag.title = 'This browser holds no key for this stream';
        button.append(tag);
      }
      const locate = document.createElement('button');
      locate.type = 'button';
      locate.className = 'stream-locate';
      locate.dataset.streamId = stream.id;
      locate.textContent = 'Map';
      locate.title = `Centre the map on ${stream.camera}`;
      locate.onclick = () => locateOnMap(stream.id);
      const item = document.createElement('li');
      item.className = 'stream-item';
      item.append(button, locate);
      return item;
    }),
  );
}

/** @param {import('./streams.js').Stream} stream */
function openTile(stream) {
  if (stream.id in bwlive.tiles || Object.keys(bwlive.tiles).length >= MAX_TILES || bwlive.clock?.ok === false) return;
  const tile = new Tile(stream, bwlive.keys, {
    onClose: (closed) => {
      delete bwlive.tiles[closed.streamId];
      layoutTiles();
    },
    onUnmute: (audible) => {
      for (const other of Object.values(bwlive.tiles)) if (other !== audible) other.setMuted(true);
    },
    onPosition: (moved) => {
      if (moved.position) bwlive.lastPositions[moved.streamId] = moved.position;
    },
    onAcknowledge: acknowledge,
  });
  bwlive.tiles[stream.id] = tile;
  page.tiles.append(tile.element);
  layoutTiles();
  tile.open();
}

/**
 * The camera is told end to end (it vibrates); the server records who and when, shows it
 * to every operator and emits the SOC event.
 * @param {Tile} tile
 */
async function acknowledge(tile) {
  try {
    await tile.acknowledge(currentOperatorName());
    await callApi('POST', `/api/streams/${encodeURIComponent(tile.streamId)}/acknowledge`);
  } catch (error) {
    tile.notice(`Not acknowledged: ${error.message}`);
  }
}

/**
 * Fill the grid with a group's members (null: leave the grid as it is, as your own).
 * @param {import('./streams.js').Group | null} group
 */
function showGroup(group) {
  showView('live');
  if (group) fillWithGroup(group);
  else renderGridTitle(null);
}

/** @param {import('./streams.js').Group} group */
function fillWithGroup(group) {
  const members = new Set(group.members);
  for (const tile of Object.values(bwlive.tiles)) {
    const stream = bwlive.streams.find((candidate) => candidate.id === tile.streamId);
    if (!stream || !members.has(stream.camera)) tile.close();
  }
  for (const member of group.members) {
    const stream = bwlive.streams.find((candidate) => candidate.camera === member);
    if (stream) openTile(stream);
  }
  renderGridTitle(group);
}

/** @param {import('./streams.js').Group | null} group */
function renderGridTitle(group) {
  page.gridTitle.hidden = !group;
  if (!group) return;
  const live = group.members.filter((member) => bwlive.streams.some((stream) => stream.camera === member));
  const offline = group.members.filter((member) => !live.includes(member));
  page.gridTitle.textContent =
    `${group.name}: ${live.length} of ${group.members.length} streaming` +
    (offline.length ? ` (not streaming: ${offline.join(', ')})` : '');
}

/** Size the grid to the number of tiles and refresh the list's open/disabled marks. */
function layoutTiles() {
  page.tiles.dataset.count = String(Object.keys(bwlive.tiles).length);
  renderStreams();
}

/** @param {'live'|'map'} view */
async function showView(view) {
  for (const [name, element] of Object.entries(page.views)) element.hidden = name !== view;
  for (const button of document.querySelectorAll('.nav-view')) {
    button.setAttribute('aria-pressed', String(button.dataset.view === view));
  }
  if (view !== 'map') return;
  if (!bwlive.map) {
    let settings = { tile_url: '', tile_attribution: '' };
    try {
      settings = await callApi('GET', '/api/console/settings');
    } catch {
      // the offline grid will do
    }
    bwlive.map ??= new CameraMap(page.mapElement, settings);
    feeds.follow(bwlive.streams, bwlive.keys);
  }
  bwlive.map.shown();
}

/**
 * Show the map centred on a camera; waits for its first position if need be.
 * @param {string} streamId
 */
async function locateOnMap(streamId) {
  await showView('map');
  const until = Date.now() + LOCATE_WAIT_MS;
  while (!bwlive.map.centreOn(streamId) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** @param {string} iso */
function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const today = date.toDateString() === new Date().toDateString();
  return today
    ? date.toLocaleTimeString()
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
