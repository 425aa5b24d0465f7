/**
 * `<bwlive-player>`: bwlive's live streams in another site's page (docs/EMBEDDING.md).
 *
 * One ES module, served by bwlive at `/web/player/v1/bwlive-player.js` with its
 * Subresource Integrity hash published at `GET /api/player`. It defines the element and
 * is the console's own code in a shadow DOM: the tile (tile.js, with its WHEP session,
 * decrypting worker and stream verifier), the live list (streams.js), the clock check
 * and the keystore, talking to the bwlive server named by `server` with the viewer token
 * named by `token` (api.js) instead of a session.
 *
 * Attributes (and the properties of the same names, camelCase): `server` (bwlive's base
 * URL), `token` (a viewer token; set a fresh one before it expires, playing goes on),
 * and what to show: `stream` (a live stream by id), `camera-user` (the live stream of a
 * camera user, and the next one when it ends), `group` (a grid of every live stream the
 * token's scope admits: mint it with `{"groups": [id]}`) or `recording` (a recording by
 * id, played from its start: recording-view.js).
 *
 * Events (`detail` in brackets): `stream-started` ({streamId, camera}: frames decrypt),
 * `stream-ended` ({streamId, camera, message}), `acknowledged` ({streamId, camera, by,
 * at}), `position` ({streamId, camera, fix, lat, lon, accuracy, t}), `error` ({code,
 * message, streamId?}; codes: config, origin, token, token-expired, server, clock, and
 * the tile's no-key, other-key, wrong-key, unverified).
 *
 * Methods: `acknowledge()`, `mute(muted = true)`, `fullscreen()`, `setKey(key)` (this
 * element only, kept in memory) and `BwlivePlayer.importKey(key)` (kept non-extractable
 * in this origin's IndexedDB for every player of the origin); the keys: key-handover.js.
 *
 * CSS parts: `status` (the player's own message line), `grid`, and the tile's `tile`,
 * `head`, `camera`, `state`, `button`, `ack`, `mute`, `media`, `video`, `frame`,
 * `message`, `foot`, `position`, `verified`, `acknowledged`. Colours: the custom
 * properties `--bg`, `--panel`, `--panel-2`, `--line`, `--text`, `--muted`, `--accent`,
 * `--ok`, `--warn`, `--error`.
 *
 * Read-only properties for the host page (and tests): `state` ('idle'|'waiting'|'live'|
 * 'ended'|'recording'|'error'), `message`, `error` (the last error's code, or null),
 * `streamIds`, `recordingPlayer` (the recordings player: `position`, `duration`, `play()`,
 * `pause()`, `seek(ms)`).
 */
import { Api, ApiError } from '../../api.js';
import { checkClock } from '../../clock.js';
import { ContentKeyError } from '../../content-key.js';
import { el } from '../../dom.js';
import { heldKeyOf } from '../../key-handover.js';
import { listKeys, storeKey } from '../../keystore.js';
import { watchStreams } from '../../streams.js';
import { Tile } from '../../tile.js';
import { RecordingView } from './recording-view.js';

const TILE_CSS = new URL('../../tile.css', import.meta.url).href;
const WATCHED = ['server', 'token', 'stream', 'camera-user', 'group', 'recording'];
const TOKEN_EXPIRED_MESSAGE = 'The viewer token expired: the page must give the player a new one.';
const STYLE = `
:host {
  --bg: #0e1116; --panel: #161b22; --panel-2: #1c232c; --line: #2a323d; --text: #d3dae3;
  --muted: #8b96a5; --accent: #4fb3bf; --ok: #4cc38a; --warn: #e0b251; --error: #f0706a;
  display: block; position: relative; min-height: 12rem; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, sans-serif; color-scheme: dark;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.grid { display: grid; gap: 0.5rem; height: 100%; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); }
.grid .tile { min-height: 12rem; }
.tile-close { display: none; }
.status { margin: 0; padding: 0.5rem; color: var(--muted); }
.recording { display: flex; flex-direction: column; height: 100%; background: #000; }
.recording-picture { flex: 1; min-height: 0; width: 100%; object-fit: contain; }
.recording-controls { display: flex; align-items: center; gap: 0.5rem; padding: 0.3rem 0.5rem; background: var(--panel); }
.recording-seek { flex: 1; }
.recording-time { font-variant-numeric: tabular-nums; }
:host([data-state="error"]) .status { color: var(--error); }
`;

/**
 * @typedef {import('../../streams.js').Stream} Stream
 * @typedef {import('../../key-handover.js').HandedKey} HandedKey
 */

export class BwlivePlayer extends HTMLElement {
  static observedAttributes = WATCHED;

  /**
   * Keep a key in this origin's IndexedDB, non-extractable, for every player of this
   * origin (a password-protected link: typed once). The key never leaves the browser.
   * @param {HandedKey} key
   * @returns {Promise<{keyId: string, thumbprint: string}>}
   */
  static async importKey(key) {
    const { keyId, thumbprint } = await storeKey(await heldKeyOf(key));
    return { keyId, thumbprint };
  }

  /** @type {'idle'|'waiting'|'live'|'ended'|'recording'|'error'} */
  state = 'idle';
  /** @type {string} */
  message = '';
  /** @type {string | null} the last error's code */
  error = null;

  /** @type {Map<string, Tile>} */
  #tiles = new Map();
  /** @type {Map<string, string>} stream id → its acknowledgement last told (`at`) */
  #acknowledged = new Map();
  /** @type {Set<string>} streams whose `stream-started` was told */
  #started = new Set();
  /** @type {import('../../keystore.js').KeyRecord[] | null} handed with setKey() */
  #keys = null;
  /** @type {(() => void) | null} */
  #stopWatching = null;
  /** @type {RecordingView | null} */
  #recording = null;
  #generation = 0;
  #status;
  #grid;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    this.#status = el('p', { className: 'status', attrs: { part: 'status', role: 'status' } });
    this.#grid = el('div', { className: 'grid', attrs: { part: 'grid' } });
    root.append(el('link', { rel: 'stylesheet', href: TILE_CSS }), el('style', { textContent: STYLE }), this.#status, this.#grid);
  }

  connectedCallback() {
    this.#restart();
  }

  disconnectedCallback() {
    this.#stop();
  }

  /**
   * @param {string} name
   * @param {string | null} before
   * @param {string | null} now
   */
  attributeChangedCallback(name, before, now) {
    if (before === now || !this.isConnected) return;
    // a fresh token goes on with what plays (it is read at each call); a refused one starts again
    if (name !== 'token' || this.state === 'error') this.#restart();
  }

  get server() { return this.getAttribute('server') ?? ''; }
  set server(value) { this.setAttribute('server', value); }
  get token() { return this.getAttribute('token') ?? ''; }
  set token(value) { this.setAttribute('token', value); }
  get stream() { return this.getAttribute('stream') ?? ''; }
  set stream(value) { this.setAttribute('stream', value); }
  get cameraUser() { return this.getAttribute('camera-user') ?? ''; }
  set cameraUser(value) { this.setAttribute('camera-user', value); }
  get group() { return this.getAttribute('group') ?? ''; }
  set group(value) { this.setAttribute('group', value); }
  get recording() { return this.getAttribute('recording') ?? ''; }
  set recording(value) { this.setAttribute('recording', value); }

  /** @returns {import('../../recording-player.js').RecordingPlayer | null} */
  get recordingPlayer() {
    return this.#recording?.player ?? null;
  }

  /** @returns {string[]} the streams on screen */
  get streamIds() {
    return [...this.#tiles.keys()];
  }

  /**
   * Use this key (only in this element, not stored), instead of those of the origin's
   * IndexedDB; playing starts again with it.
   * @param {HandedKey} key
   * @returns {Promise<{keyId: string, thumbprint: string}>}
   */
  async setKey(key) {
    const held = await heldKeyOf(key);
    this.#keys = [{ ...held, addedAt: new Date().toISOString() }];
    if (this.isConnected) this.#restart();
    return { keyId: held.keyId, thumbprint: held.thumbprint };
  }

  /**
   * Acknowledge the stream shown (or the one named, in a grid): the camera vibrates.
   * @param {string} [streamId]
   * @returns {Promise<boolean>} whether the server took it (why not: on the tile)
   */
  async acknowledge(streamId) {
    const tile = streamId ? this.#tiles.get(streamId) : [...this.#tiles.values()].find((t) => t.state === 'live');
    if (!tile) throw new Error('No live stream to acknowledge.');
    return tile.acknowledge();
  }

  /** @param {boolean} [muted] false: the sound of the (first) stream on */
  mute(muted = true) {
    [...this.#tiles.values()].forEach((tile, index) => tile.setMuted(muted || index > 0));
  }

  /** @returns {Promise<void>} the player fills the screen (the browser asks for a user's gesture) */
  fullscreen() {
    return this.requestFullscreen();
  }

  #stop() {
    this.#generation += 1;
    this.#stopWatching?.();
    this.#stopWatching = null;
    this.#recording?.close();
    this.#recording?.element.remove();
    this.#recording = null;
    for (const tile of this.#tiles.values()) tile.close();
    this.#tiles.clear();
    this.#acknowledged.clear();
    this.#started.clear();
  }

  async #restart() {
    this.#stop();
    const generation = this.#generation;
    const current = () => generation === this.#generation;
    this.error = null;
    this.#setState('waiting', 'Connecting…');
    const problem = this.#configurationProblem();
    if (problem) {
      this.#fail('config', problem);
      return;
    }
    const api = new Api({ base: this.server, token: () => this.token || null });
    let keys = this.#keys;
    try {
      keys ??= await listKeys();
    } catch {
      keys = []; // no IndexedDB: the tile says there is no key
    }
    const clock = await checkClock(3, api);
    if (!current()) return;
    if (!clock.ok) {
      this.#fail('clock', clock.message);
      return;
    }
    if (this.recording) {
      this.#playRecording(keys, api, current);
      return;
    }
    let streams;
    try {
      ({ streams } = await api.call('GET', '/api/streams'));
    } catch (error) {
      if (current()) this.#failCall(error, api);
      return;
    }
    if (!current()) return;
    const follow = (list) => current() && this.#follow(list, { keys, clock, api });
    follow(streams);
    this.#stopWatching = watchStreams({
      onStreams: follow,
      onGroups: () => {},
      onStatus: () => {},
      onAccessChanged: async () => {
        if (current()) this.#fail('token', 'bwlive ended access: the API key was revoked or changed.');
        return false;
      },
      onTokenExpired: () => current() && this.#tell('error', { code: 'token-expired', message: TOKEN_EXPIRED_MESSAGE }),
    }, api);
  }

  /**
   * @param {import('../../keystore.js').KeyRecord[]} keys
   * @param {Api} api
   * @param {() => boolean} current this start is still the player's
   */
  async #playRecording(keys, api, current) {
    const view = new RecordingView();
    this.#recording = view;
    this.#grid.append(view.element);
    try {
      const { camera } = await view.open(this.recording, keys, api);
      if (current()) this.#setState('recording', camera, { shown: false });
    } catch (error) {
      if (!current()) return;
      view.element.remove();
      if (error instanceof ContentKeyError) this.#fail(error.reason, error.message);
      else this.#failCall(error, api);
    }
  }

  /**
   * A call to bwlive failed: refused (its sentence), or withheld by the browser (CORS).
   * @param {unknown} error
   * @param {Api} api
   */
  #failCall(error, api) {
    if (error instanceof ApiError) this.#fail(error.status === 401 ? 'token' : 'server', `bwlive refused: ${error.message}`);
    else this.#fail('origin', `bwlive at ${api.base} does not accept this page's origin (${location.origin}), or cannot be reached.`);
  }

  /** @returns {string | null} what is missing in the attributes */
  #configurationProblem() {
    if (!this.server) return 'Set the server attribute to the bwlive server\'s address.';
    try {
      new URL(this.server);
    } catch {
      return `The server attribute is not an address: ${this.server}.`;
    }
    if (!this.token) return 'No viewer token: the page must give the player one (token attribute).';
    if ([this.stream, this.cameraUser, this.group, this.recording].filter(Boolean).length !== 1) {
      return 'Set exactly one of the attributes stream, camera-user, group and recording.';
    }
    return null;
  }

  /**
   * Follow the live list: tiles for the streams wanted, acknowledgements told, ended
   * streams ended (a camera user's next stream takes its place).
   * @param {Stream[]} streams
   * @param {{keys: import('../../keystore.js').KeyRecord[], clock: object, api: Api}} context
   */
  #follow(streams, context) {
    const wanted = streams.filter((stream) =>
      this.stream ? stream.id === this.stream : this.cameraUser ? stream.camera === this.cameraUser : true);
    const live = new Map(streams.map((stream) => [stream.id, stream]));
    for (const [id, tile] of this.#tiles) {
      const stream = live.get(id);
      if (!stream) {
        tile.end();
        continue;
      }
      tile.setAcknowledged(stream.acknowledged);
      tile.setLost(stream.lost_at ?? null);
      this.#tellAcknowledged(stream);
    }
    for (const stream of wanted) {
      if (this.#tiles.has(stream.id)) continue;
      for (const tile of this.#tiles.values()) if (tile.camera === stream.camera && tile.state === 'ended') tile.close();
      this.#open(stream, context);
    }
    if (this.#tiles.size === 0) this.#setState('waiting', this.#waitingMessage());
  }

  /**
   * @param {Stream} stream
   * @param {{keys: import('../../keystore.js').KeyRecord[], clock: object, api: Api}} context
   */
  #open(stream, { keys, clock, api }) {
    const tile = new Tile(stream, keys, {
      onClose: (closed) => this.#tiles.delete(closed.streamId),
      onUnmute: (audible) => this.#tiles.forEach((other) => other !== audible && other.setMuted(true)),
      onPosition: (moved) => this.#tell('position', {
        ...this.#about(moved), fix: !moved.gpsLost, ...(moved.position ?? {}),
      }),
      onState: (changed) => this.#onTileState(changed),
    }, clock, { api, rewind: false });
    this.#tiles.set(stream.id, tile);
    if (stream.acknowledged) this.#acknowledged.set(stream.id, stream.acknowledged.at);
    this.#grid.append(tile.element);
    this.#onTileState(tile);
    tile.open();
  }

  /** @param {Tile} tile */
  #onTileState(tile) {
    if (tile.state === 'live' && !this.#started.has(tile.streamId)) {
      this.#started.add(tile.streamId);
      this.#tell('stream-started', this.#about(tile));
    } else if (tile.state === 'ended') {
      this.#tell('stream-ended', { ...this.#about(tile), message: tile.message });
    } else if (tile.state === 'error') {
      this.error = tile.error;
      this.#tell('error', { code: tile.error, message: tile.message, streamId: tile.streamId });
    }
    const states = [...this.#tiles.values()].map((t) => t.state);
    const state = ['live', 'error', 'ended'].find((s) => states.includes(s)) ?? 'waiting';
    this.#setState(state, tile.message, { shown: false });
  }

  /** @param {Stream} stream */
  #tellAcknowledged(stream) {
    const ack = stream.acknowledged;
    if (!ack || this.#acknowledged.get(stream.id) === ack.at) return;
    this.#acknowledged.set(stream.id, ack.at);
    this.#tell('acknowledged', { streamId: stream.id, camera: stream.camera, by: ack.by, at: ack.at });
  }

  #waitingMessage() {
    if (this.stream) return `Stream ${this.stream} is not live, or this token may not watch it.`;
    if (this.cameraUser) return `Waiting for ${this.cameraUser} to stream.`;
    return 'No live stream in this group.';
  }

  /** @param {Tile} tile */
  #about(tile) {
    return { streamId: tile.streamId, camera: tile.camera };
  }

  /**
   * @param {string} code
   * @param {string} message
   */
  #fail(code, message) {
    this.error = code;
    this.#setState('error', message);
    this.#tell('error', { code, message });
  }

  /**
   * @param {'idle'|'waiting'|'live'|'ended'|'recording'|'error'} state
   * @param {string} message
   * @param {{shown?: boolean}} [how] shown: on the player's status line (a tile shows its own)
   */
  #setState(state, message, { shown = true } = {}) {
    this.state = state;
    this.message = message;
    this.dataset.state = state;
    this.#status.textContent = shown ? message : '';
    this.#status.hidden = !shown;
  }

  /**
   * @param {string} type
   * @param {object} detail
   */
  #tell(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

if (!customElements.get('bwlive-player')) customElements.define('bwlive-player', BwlivePlayer);
