/**
 * The operator page: the keys this browser holds, the live list of active streams,
 * and up to four tiles watching them.
 *
 * For inspection (tests, curious operators): `window.bwlive = {ready, keys, streams,
 * tiles, lastPositions}`; `ready` resolves once the keys are loaded, `tiles` maps a
 * stream id to its Tile, `lastPositions` a stream id to its camera's last
 * `{lat, lon, accuracy, t}`. Tile elements carry `data-stream-id`, `data-state` and
 * `data-error` (see tile.js). The page's Content-Security-Policy forbids eval, so
 * Playwright's string predicates (wait_for_function) need a context with bypass_csp;
 * selectors such as `.tile[data-state=live]` work as they are.
 */
import { checkClock } from './clock.js';
import { importFromLocationHash, listKeys } from './keystore.js';
import { askPassphrase, closePassphrase } from './passphrase.js';
import { requireSignIn } from './session.js';
import { watchStreams } from './streams.js';
import { NO_KEY_MESSAGE, Tile } from './tile.js';

const MAX_TILES = 4;

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
};
window.bwlive = bwlive;

const page = {
  keys: document.getElementById('keys'),
  banner: document.getElementById('banner'),
  clockBanner: document.getElementById('clock-banner'),
  connection: document.getElementById('connection'),
  streams: document.getElementById('streams'),
  tileLimit: document.getElementById('tile-limit'),
  tiles: document.getElementById('tiles'),
};

bwlive.ready = loadKeys();
bwlive.ready.then(requireSignIn).then(async (session) => {
  if (!session) return;
  bwlive.session = session;
  bwlive.clock = await checkClock();
  page.clockBanner.textContent = bwlive.clock.message ?? '';
  page.clockBanner.hidden = bwlive.clock.ok;
  watchStreams({ onStreams, onStatus });
  addEventListener('pagehide', () => Object.values(bwlive.tiles).forEach((tile) => tile.close()));
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
  const active = new Set(streams.map((stream) => stream.id));
  for (const tile of Object.values(bwlive.tiles)) {
    if (!active.has(tile.streamId)) tile.end();
  }
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
      button.onclick = () => (open ? bwlive.tiles[stream.id].element.scrollIntoView() : openTile(stream));
      const camera = document.createElement('span');
      camera.className = 'stream-camera';
      camera.textContent = stream.camera;
      const started = document.createElement('time');
      started.className = 'stream-started';
      started.dateTime = stream.started_at;
      started.textContent = `since ${formatStart(stream.started_at)}`;
      button.append(camera, started);
      if (!heldKeys.has(stream.key_envelope?.kid)) {
        const tag = document.createElement('span');
        tag.className = 'stream-tag';
        tag.textContent = 'no key';
        tag.title = 'This browser holds no key for this stream';
        button.append(tag);
      }
      const item = document.createElement('li');
      item.append(button);
      return item;
    }),
  );
}

/** @param {import('./streams.js').Stream} stream */
function openTile(stream) {
  if (Object.keys(bwlive.tiles).length >= MAX_TILES || bwlive.clock?.ok === false) return;
  const tile = new Tile(stream, bwlive.keys, {
    onClose: (closed) => {
      delete bwlive.tiles[closed.streamId];
      layoutTiles();
    },
    onUnmute: (audible) => {
      for (const other of Object.values(bwlive.tiles)) if (other !== audible) other.setMuted(true);
    },
    onPosition: (moved) => {
      bwlive.lastPositions[moved.streamId] = moved.position;
    },
  });
  bwlive.tiles[stream.id] = tile;
  page.tiles.append(tile.element);
  layoutTiles();
  tile.open();
}

/** Size the grid to the number of tiles and refresh the list's open/disabled marks. */
function layoutTiles() {
  page.tiles.dataset.count = String(Object.keys(bwlive.tiles).length);
  renderStreams();
}

/** @param {string} iso */
function formatStart(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const today = date.toDateString() === new Date().toDateString();
  return today
    ? date.toLocaleTimeString()
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
