/**
 * The operator's console (index.html): the keys this browser holds, the live list of
 * active streams, up to four tiles (your own pick, or a group's members), the shared
 * groups, and the map.
 *
 * For tests: `window.bwlive` (read-only) = {ready, keys, session, streams, tiles,
 * lastPositions, clock, groups, map, grid, alerts}; `ready` resolves once the keys are loaded, `tiles`
 * maps a stream id to its Tile, `groups` is the GroupsPanel, `map` the CameraMap once
 * the map was first shown. The page's Content-Security-Policy forbids eval, so
 * Playwright's string predicates (wait_for_function) need a context with bypass_csp;
 * selectors such as `.tile[data-state=live]` work as they are.
 */
import { checkClock } from './clock.js';
import { Alerts } from './console-alerts.js';
import { listenForKeys } from './console-keys.js';
import { state } from './console-state.js';
import { byId, showText } from './dom.js';
import { GroupsPanel, acceptCameras } from './groups.js';
import { loadKeys, showThumbprints } from './key-bootstrap.js';
import { Views } from './map-view.js';
import { toSignIn } from './api.js';
import { loadSession, requireSignIn } from './session.js';
import { renderStreams } from './stream-list.js';
import { watchStreams } from './streams.js';
import { exposeForTests } from './test-view.js';
import { LAYOUTS, TileGrid } from './tile-grid.js';

const views = new Views({ live: byId('view-live'), map: byId('view-map') }, byId('map'), () => showStreams());
const grid = new TileGrid({ element: byId('tiles'), title: byId('grid-title') }, () => showStreams());
const alerts = new Alerts();
const search = /** @type {HTMLInputElement} */ (byId('stream-search'));
search.addEventListener('input', () => showStreams());
listenForKeys(grid);
const layoutButtons = document.querySelectorAll('.layout-choice');
for (const choice of layoutButtons) choice.addEventListener('click', () => chooseLayout(Number(choice.dataset.size)));
showLayout();
const groups = new GroupsPanel(
  { list: byId('groups'), form: /** @type {HTMLFormElement} */ (byId('new-group')), message: byId('groups-message') },
  (group) => {
    views.show('live');
    if (group) grid.fillWith(group);
    else grid.showTitle(null);
  },
);
/** The groups changed or the stream list did: the group shown follows (title, new streams). */
const followGroup = () => (groups.active ? grid.follow(groups.active) : grid.showTitle(null));
acceptCameras(byId('tiles'), (camera) => {
  const stream = state.streams.find((candidate) => candidate.camera === camera);
  if (stream) grid.open(stream);
});

exposeForTests({
  ready: () => state.ready,
  keys: () => state.keys,
  session: () => state.session,
  streams: () => state.streams,
  tiles: () => grid.tiles,
  lastPositions: () => state.lastPositions,
  clock: () => state.clock,
  groups: () => groups,
  map: () => views.map,
  grid: () => grid,
  alerts: () => alerts,
});

state.ready = (async () => {
  const { keys, problem } = await loadKeys();
  state.keys = keys;
  showThumbprints(byId('keys'), keys);
  showText(byId('banner'), problem);
})();

state.ready.then(requireSignIn).then(async (session) => {
  if (!session) return;
  state.session = session;
  showRole(session.role);
  state.clock = await checkClock();
  showText(byId('clock-banner'), state.clock.message);
  watchStreams({
    onStreams,
    onGroups: (list) => {
      groups.set(list);
      followGroup();
    },
    onStatus,
    onAccessChanged,
  });
  addEventListener('pagehide', () => {
    grid.closeAll();
    views.close();
  });
});

/** @param {import('./streams.js').Stream[]} streams */
function onStreams(streams) {
  state.streams = streams;
  grid.update(streams);
  alerts.follow(streams);
  groups.setLive(new Map(streams.map((stream) => [stream.camera, stream.lost_at ? 'lost' : 'live'])));
  views.update();
  followGroup();
  showStreams();
}

/**
 * @param {boolean} connected
 * @param {number} [retryInMs]
 */
function onStatus(connected, retryInMs) {
  const connection = byId('connection');
  connection.dataset.connected = String(connected);
  connection.textContent = connected
    ? 'Connected'
    : `Server unreachable, retrying in ${Math.round(retryInMs / 1000)} s`;
  if (connected) groups.load().then(followGroup);
}

/**
 * The server closed the stream list because this user's role or membership changed:
 * read the session again. Removed: stop every tile and say so (no reconnecting). Another
 * role: say which, and carry on.
 * @returns {Promise<boolean>} whether to reconnect
 */
async function onAccessChanged() {
  const { organisation: before, role: roleBefore } = state.session;
  const session = await loadSession();
  if (!session.signed_in) {
    toSignIn();
    return false;
  }
  const connection = byId('connection');
  if (session.organisation?.id !== before.id) {
    const sentence = `You were removed from ${before.name}.`;
    grid.stopAll(sentence);
    views.close();
    state.streams = [];
    showStreams();
    showText(byId('access-banner'), `${sentence} Its streams are no longer shown here.`);
    connection.dataset.connected = 'false';
    connection.textContent = `Not a member of ${before.name}`;
    return false;
  }
  state.session = session;
  showRole(session.role);
  if (session.role !== roleBefore) showText(byId('access-banner'), `Your role in ${before.name} changed to ${session.role}.`);
  return true;
}

/**
 * Controls a role cannot use are not shown (`.operator-only`: changing groups, for
 * viewers), rather than refused after a try.
 * @param {string} role
 */
function showRole(role) {
  document.body.dataset.role = role;
}

function showStreams() {
  showText(byId('tile-limit'), grid.full
    ? `${grid.size * grid.size === 1 ? 'A tile is' : `${grid.size * grid.size} tiles are`} open: close one, or choose a larger layout, to watch another stream.`
    : null);
  renderStreams(byId('streams'), state.streams, {
    heldKeyIds: new Set(state.keys.map((key) => key.keyId)),
    openIds: new Set(Object.keys(grid.tiles)),
    full: grid.full,
    onOpen: (stream) => grid.open(stream),
    onFocus: (stream) => grid.focus(grid.tiles[stream.id]),
    onLocate: (stream) => views.locate(stream.id),
    located: (stream) => views.located(stream.id),
    search: search.value,
  });
}

/** @param {number} size the operator's layout: size × size tiles */
function chooseLayout(size) {
  if (!LAYOUTS.includes(size)) return;
  grid.setSize(size);
  showLayout();
}

function showLayout() {
  for (const choice of layoutButtons) choice.setAttribute('aria-pressed', String(Number(choice.dataset.size) === grid.size));
}
