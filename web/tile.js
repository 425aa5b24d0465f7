/**
 * One stream on screen: its WHEP subscription, its decrypting worker, and the tile
 * element showing the video, the state, errors and the camera's last position.
 *
 * A camera that went silent (the stream list's `lost_at`) turns the tile to 'lost' with
 * "Camera lost — last frame at HH:MM:SS" over its last frame; when its stream then ends
 * the tile stays, with the frame and the time, until the operator closes it.
 *
 * A signed stream (PROTOCOL §5.5) is verified up to the system signing key of the link
 * with key: the tile shows "✓ SN-…" once the manifest and the first checkpoint verify; a
 * stream that fails verification is not shown as live and says why; a link without a
 * signing key plays, marked unverified, and asks for a new link.
 *
 * Test hooks on the element: `data-stream-id`, `data-state`
 * ('connecting'|'live'|'lost'|'ended'|'error'), `data-error` ('no-key'|'other-key'|
 * 'wrong-key'|'server'|'unverified', only in the error state), `data-verified`
 * ('pending'|'yes'|'failed'|'no-signing-key'), `data-frame="kept"` (the last frame is
 * shown, frozen), `.tile-message`, `video`, `.tile-position`, `.tile-verified`,
 * `.tile-ack` (button), `.tile-acknowledged` (who and when), `data-help="requested"` with
 * `.tile-help` (the wearer asked for help, until acknowledged; `data-help-sealed="true"`
 * once the camera's sealed request arrived here too), `data-focused`, `.tile-stats-toggle`
 * and `.tile-fullscreen` (buttons); rewinding: tile-rewind.js; the stats: tile-stats.js.
 * Its elements carry CSS `part` names (`tile`, `video`, `message`, …) for a shadow DOM's
 * host to style (the embedded player, web/player/).
 */
import { CONSOLE_API } from './api.js';
import { ContentKeyError, WRONG_KEY_MESSAGE, openContentKey } from './content-key.js';
import { el } from './dom.js';
import { FrameCipher, sealAcknowledgement } from './e2ee.js';
import { moduleWorker } from './module-worker.js';
import { attachRewind } from './tile-rewind.js';
import { TileStats } from './tile-stats.js';
import { VerificationError, claimedDevice, verifyManifest } from './stream-verifier.js';
import { WhepError, WhepSession } from './whep.js';

const WORKER_URL = new URL('./e2ee-worker.js', import.meta.url);
const STATE_MESSAGES = { connecting: 'Connecting…', live: 'Live', ended: 'Stream ended.' };
const RENEW_LINK_MESSAGE =
  'Not verified: the link with key in this browser has no signing key. Ask your administrator for a new link.';
let tileCount = 0;

/**
 * @typedef {import('./streams.js').Stream} Stream
 * @typedef {import('./streams.js').Acknowledgement} Acknowledgement
 * @typedef {import('./keystore.js').KeyRecord} KeyRecord
 * @typedef {{lat: number, lon: number, accuracy?: number, t?: number}} Position
 */

export class Tile {
  /** @type {HTMLElement} */
  element;
  /** @type {'connecting'|'live'|'lost'|'ended'|'error'} */
  state = 'connecting';
  /** @type {string} the text shown on the tile */
  message = STATE_MESSAGES.connecting;
  /** @type {'no-key'|'other-key'|'wrong-key'|'server'|'unverified'|null} */
  error = null;
  /** @type {'pending'|'yes'|'failed'|'no-signing-key'} */
  verified = 'pending';
  /** @type {string | null} the camera serial, once verified */
  serial = null;
  /** @type {Position | null} the last fix */
  position = null;
  /** @type {boolean} the camera reports no GPS fix */
  gpsLost = false;

  #stream;
  #keys;
  #handlers;
  #clock;
  #api;
  /** @type {((stats: object) => void) | null} waits for the worker's verification cost */
  #statsWaiting = null;
  /** @type {WhepSession | null} */
  #session = null;
  /** @type {Worker | null} */
  #worker = null;
  /** @type {FrameCipher | null} decrypts the data channel */
  #cipher = null;
  /** @type {{video?: string, audio?: string}} the worker's last report per kind */
  #decryptStates = {};
  #media = new MediaStream();
  #closed = false;
  /** @type {string | null} when the camera's last media arrived, while it is lost (ISO) */
  #lostAt = null;
  #parts;
  /** @type {import('./tile-rewind.js').Rewind | null} */
  #rewind = null;
  #stats;
  /** @type {string | null} when the wearer asked for help (the stream list), until acknowledged */
  #helpAt = null;
  /** @type {number | null} the camera's sealed help request (its time), until acknowledged */
  #helpSealedAt = null;
  /** @type {Acknowledgement | null} */
  #acknowledged = null;

  /**
   * @param {Stream} stream
   * @param {KeyRecord[]} keys the keys this browser holds
   * @param {object} handlers
   * @param {(tile: Tile, byOperator: boolean) => void} handlers.onClose after the tile left the page (`byOperator`: its close button)
   * @param {(tile: Tile) => void} handlers.onUnmute the tile became audible
   * @param {(tile: Tile) => void} handlers.onPosition a new position arrived
   * @param {(tile: Tile) => void} [handlers.onState] its state or message changed
   * @param {import('./clock.js').ClockCheck | null} [clock] this computer's clock against the server's
   * @param {{api?: import('./api.js').Api, rewind?: boolean}} [options] the server as this
   *   page calls it; whether the tile offers rewinding (the console's does)
   */
  constructor(stream, keys, handlers, clock = null, { api = CONSOLE_API, rewind = true } = {}) {
    this.#stream = stream;
    this.#keys = keys;
    this.#handlers = handlers;
    this.#clock = clock;
    this.#api = api;
    this.#parts = buildElement(stream);
    this.element = this.#parts.root;
    this.#parts.close.onclick = () => this.close({ byOperator: true });
    this.#parts.mute.onclick = () => this.setMuted(!this.#parts.video.muted);
    this.#parts.ack.onclick = () => this.acknowledge();
    if (rewind) this.#rewind = attachRewind(this.element, stream, keys);
    this.#stats = new TileStats(this.#parts.video, stream.id, () => this.#session?.pc ?? null, clock, api);
    this.#parts.media.append(this.#stats.view);
    this.#parts.statsToggle.onclick = () => this.toggleStats();
    this.#parts.fullscreen.onclick = () => this.fullscreen();
    this.#render();
    this.setAcknowledged(stream.acknowledged ?? null);
    this.setLost(stream.lost_at ?? null);
    this.setHelp(stream.help_requested_at ?? null);
  }

  /** Show or hide the stats overlay. */
  toggleStats() {
    this.#stats.show(!this.#stats.shown);
    this.#parts.statsToggle.setAttribute('aria-pressed', String(this.#stats.shown));
  }

  /** The tile alone on the screen (Esc leaves); again: back to the grid. */
  fullscreen() {
    if (document.fullscreenElement === this.element) document.exitFullscreen().catch(() => {});
    else this.element.requestFullscreen().catch((error) => this.notice(`No fullscreen: ${error.message}`));
  }

  /** @param {boolean} focused the keyboard's tile (number keys pick it; A and F act on it) */
  setFocused(focused) {
    if (focused) this.element.dataset.focused = 'true';
    else delete this.element.dataset.focused;
  }

  /**
   * Follow the stream list's `help_requested_at`: the wearer asked for help (the server
   * was told in clear), or nobody did since the last acknowledgement (null).
   * @param {string | null} at
   */
  setHelp(at) {
    this.#helpAt = at;
    this.#showHelp();
  }

  #showHelp() {
    const { root, help } = this.#parts;
    const at = this.#helpAt ?? (this.#helpSealedAt ? new Date(this.#helpSealedAt).toISOString() : null);
    if (at) root.dataset.help = 'requested';
    else delete root.dataset.help;
    if (this.#helpSealedAt) root.dataset.helpSealed = 'true';
    else delete root.dataset.helpSealed;
    help.hidden = !at;
    if (at) help.textContent = `${this.camera} asks for help (${clockTime(at)}): acknowledge to answer`;
  }

  /** @returns {string} */
  get streamId() {
    return this.#stream.id;
  }

  /** @returns {string} the camera user */
  get camera() {
    return this.#stream.camera;
  }

  /** @returns {string | null} the camera (its serial) the stream's manifest names, unverified */
  get device() {
    return claimedDevice(this.#stream.manifest);
  }

  /** @returns {string} when the stream started (ISO) */
  get startedAt() {
    return this.#stream.started_at;
  }

  /** @returns {boolean} */
  get muted() {
    return this.#parts.video.muted;
  }

  /**
   * Open the content key, then subscribe, also without a key: the server learns from
   * the decrypt state (sent once subscribed) that this browser cannot decrypt.
   */
  async open() {
    this.#worker = moduleWorker(WORKER_URL);
    this.#worker.onmessage = ({ data }) => this.#onWorkerMessage(data);
    const session = new WhepSession(this.streamId, { worker: this.#worker, tileId: `tile-${++tileCount}` }, this.#api);
    this.#session = session;
    session.ontrack = (track) => this.#attach(track);
    session.onended = (reason) => this.end(reason);
    session.channel.onmessage = ({ data }) => this.#onChannelMessage(data);
    await this.#loadContentKey();
    try {
      await session.connect();
    } catch (error) {
      if (this.#closed) return;
      if (error instanceof WhepError && error.status === 404) this.end('The stream has ended.');
      else this.#fail('server', error.message);
    }
  }

  /**
   * The stream is over (gone from the list, or the server dropped us). The tile stays,
   * with its last frame and when it ended (or, for a lost camera, its last frame's time).
   * @param {string} [reason] instead of "Stream ended." (the time follows)
   */
  end(reason) {
    if (this.#closed || this.state === 'ended') return;
    this.error = null;
    this.#keepFrame();
    const when = this.#lostAt
      ? `Camera lost — last frame at ${clockTime(this.#lostAt)}.`
      : `Ended at ${clockTime(new Date())}.`;
    this.#setState('ended', `${reason ?? STATE_MESSAGES.ended} ${when}`);
    this.#stop();
  }

  /**
   * Stop the tile at once with a reason (e.g. the operator lost access), also when its
   * stream had already ended.
   * @param {string} reason
   */
  stop(reason) {
    if (this.#closed) return;
    this.error = null;
    this.#setState('ended', reason);
    this.#stop();
    if (this.#rewind) this.#rewind.button.disabled = true; // the recording is out of reach too
  }

  /**
   * Follow the stream list's `lost_at`: the camera sent nothing for 2 s (lost, with the
   * time of its last media), or it sends again (null).
   * @param {string | null} lostAt
   */
  setLost(lostAt) {
    if (this.#closed || this.state === 'ended' || this.state === 'error') return;
    if (lostAt) {
      if (this.state === 'lost' && this.#lostAt === lostAt) return;
      this.#lostAt = lostAt;
      this.#keepFrame();
      this.#setState('lost', `Camera lost — last frame at ${clockTime(lostAt)}`);
    } else if (this.state === 'lost') {
      this.#lostAt = null;
      this.#dropFrame();
      this.#setState(Object.values(this.#decryptStates).includes('ok') ? 'live' : 'connecting');
    }
  }

  /**
   * Leave the stream and remove the tile.
   * @param {{byOperator?: boolean}} [how] the operator pressed its close button
   */
  close({ byOperator = false } = {}) {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop();
    this.element.remove();
    this.#handlers.onClose(this, byOperator);
  }

  /**
   * Acknowledge (the Acknowledge button): seal an operator_data frame of
   * `{type: 'acknowledge', t}` under this page's sender id and next counter (PROTOCOL §3)
   * for the camera; the server relays it with who pressed (the camera vibrates if it opens
   * with the stream's key and is fresh and new), records who and when, shows it to every
   * operator and emits the SOC event. Why it failed is shown on the tile.
   * @returns {Promise<boolean>} whether the server took it
   */
  async acknowledge() {
    try {
      if (!this.#cipher) throw new Error('The stream key is not open yet.');
      const sealed = await sealAcknowledgement(this.#cipher, Date.now());
      await this.#api.call('POST', `/api/streams/${encodeURIComponent(this.streamId)}/acknowledge`, { sealed });
      return true;
    } catch (error) {
      this.notice(`Not acknowledged: ${error.message}`);
      return false;
    }
  }

  /**
   * Show the stream's last acknowledgement (from the live stream list).
   * @param {Acknowledgement | null} ack
   */
  setAcknowledged(ack) {
    this.#acknowledged = ack;
    if (ack && this.#helpSealedAt && Date.parse(ack.at) >= this.#helpSealedAt) {
      this.#helpSealedAt = null; // answered
      this.#showHelp();
    }
    const line = this.#parts.acknowledged;
    line.hidden = !ack;
    if (ack) line.textContent = `Acknowledged by ${ack.by} at ${new Date(ack.at).toLocaleTimeString()}`;
    this.#parts.root.dataset.acknowledged = String(Boolean(ack));
  }

  /** @param {string} text shown on the tile for a few seconds (e.g. why acknowledging failed) */
  notice(text) {
    this.#parts.acknowledged.hidden = false;
    this.#parts.acknowledged.textContent = text;
  }

  /** @param {boolean} muted */
  setMuted(muted) {
    this.#parts.video.muted = muted;
    this.#parts.mute.textContent = muted ? 'Unmute' : 'Mute';
    this.#parts.mute.setAttribute('aria-pressed', String(!muted));
    if (!muted) {
      this.#parts.video.play().catch(() => {});
      this.#handlers.onUnmute(this);
    }
  }

  /**
   * Show a received track; re-assigning srcObject makes the element load it.
   * @param {MediaStreamTrack} track
   */
  #attach(track) {
    this.#media.addTrack(track);
    this.#parts.video.srcObject = this.#media;
  }

  #stop() {
    this.#rewind?.close();
    this.#stats.close();
    this.#session?.close();
    this.#worker?.terminate();
  }

  /** Freeze the last decrypted frame shown (if any) on the tile's canvas. */
  #keepFrame() {
    const { video, frame, root } = this.#parts;
    if (root.dataset.frame === 'kept' || this.state !== 'live' || !video.videoWidth) return;
    frame.width = video.videoWidth;
    frame.height = video.videoHeight;
    frame.getContext('2d').drawImage(video, 0, 0);
    root.dataset.frame = 'kept';
  }

  #dropFrame() {
    delete this.#parts.root.dataset.frame;
  }

  /**
   * Open the stream key; verify the stream's manifest up to the link's system signing
   * key; give both to the worker (nothing decrypts when the manifest fails).
   */
  async #loadContentKey() {
    const envelope = this.#stream.key_envelope;
    let contentKey;
    try {
      contentKey = await openContentKey(envelope, this.#keys, 'Stream');
    } catch (error) {
      if (!(error instanceof ContentKeyError)) throw error;
      this.#fail(error.reason, error.message);
      return;
    }
    const signingKey = this.#keys.find((key) => key.keyId === envelope?.kid)?.signingKey;
    if (!signingKey) {
      this.#setVerified('no-signing-key', RENEW_LINK_MESSAGE);
    } else {
      try {
        const manifest = await verifyManifest(this.#stream.manifest, { signingKey, envelope });
        this.#worker.postMessage({ type: 'verify', manifest, clock: this.#clock });
      } catch (error) {
        if (!(error instanceof VerificationError)) throw error;
        this.#failVerification(error.message);
        return;
      }
    }
    this.#cipher = new FrameCipher(contentKey);
    this.#worker.postMessage({ type: 'key', key: contentKey });
  }

  /**
   * What the worker tells: decrypt states, verification, checked positions, costs.
   * @param {{type: string}} message
   */
  #onWorkerMessage(message) {
    if (message.type === 'state') this.#onDecryptState(message);
    else if (message.type === 'verification') this.#onVerification(message);
    else if (message.type === 'position') this.#showPosition(message.update);
    else if (message.type === 'status') this.#stats.onStatus(message.status);
    else if (message.type === 'capture') this.#stats.onCapture(message);
    else if (message.type === 'help') this.#onSealedHelp(message.t);
    else if (message.type === 'stats') this.#statsWaiting?.(message);
  }

  /**
   * The camera's own (sealed) help request: shown even before, or without, the server's
   * word; an acknowledgement after it answers it.
   * @param {number} t when the wearer pressed (camera clock, ms)
   */
  #onSealedHelp(t) {
    if (this.#closed) return;
    const ack = this.#acknowledged;
    if (ack && Date.parse(ack.at) >= t) return;
    this.#helpSealedAt = t;
    this.#showHelp();
  }

  /**
   * What verifying this tile's frames cost so far in its worker.
   * @returns {Promise<{frames: number, verifyMs: number, holdMs: number}>}
   */
  verificationCost() {
    return new Promise((resolve) => {
      this.#statsWaiting = resolve;
      this.#worker.postMessage({ type: 'stats' });
    });
  }

  /**
   * @param {{state: 'verified'|'failed', serial?: string, message?: string}} report
   */
  #onVerification({ state, serial, message }) {
    if (this.#closed || this.state === 'ended') return;
    if (state === 'verified') {
      this.serial = serial;
      this.#setVerified('yes', `✓ ${serial}`, `Signed by camera ${serial}, certified by the system`);
    } else {
      this.#failVerification(message);
    }
  }

  /** @param {string} why */
  #failVerification(why) {
    this.#setVerified('failed', 'Not verified');
    this.#keepFrame();
    this.#fail('unverified', `Not verified: ${why}.`);
  }

  /**
   * @param {'pending'|'yes'|'failed'|'no-signing-key'} verified
   * @param {string} text
   * @param {string} [title]
   */
  #setVerified(verified, text, title = text) {
    this.verified = verified;
    const badge = this.#parts.verified;
    badge.hidden = false;
    badge.textContent = text;
    badge.title = title;
    this.#parts.root.dataset.verified = verified;
  }

  /**
   * A report from the worker: live once frames decrypt, an error when they fail.
   * @param {{kind: 'video'|'audio', state: 'ok'|'failed'}} report
   */
  #onDecryptState({ kind, state }) {
    if (this.#closed || this.state === 'ended' || this.error === 'server' || this.error === 'unverified') return;
    this.#decryptStates[kind] = state;
    if (this.state === 'lost') return; // the stream list says when it comes back
    const states = Object.values(this.#decryptStates);
    if (states.includes('failed')) {
      this.#fail('wrong-key', WRONG_KEY_MESSAGE);
    } else if (states.includes('ok') && this.state !== 'live') {
      this.error = null;
      this.#setState('live');
      this.#session.setDecrypting(true);
    }
  }

  /**
   * A camera → browser data message: a sealed one (a position) or, in clear, a
   * checkpoint; both go to the worker, which checks and opens them.
   * @param {ArrayBuffer | string} data
   */
  #onChannelMessage(data) {
    if (data instanceof ArrayBuffer) {
      this.#worker?.postMessage({ type: 'data', data }, [data]);
      return;
    }
    let message = null;
    try {
      message = JSON.parse(data);
    } catch {
      return; // not ours
    }
    if (message?.type === 'checkpoint') this.#worker?.postMessage({ type: 'checkpoint', token: message.token });
  }

  /**
   * A position the worker opened (and checked, for a verified stream).
   * @param {import('./camera-data.js').Position} update
   */
  #showPosition(update) {
    if (this.#closed || this.error === 'unverified') return;
    this.gpsLost = !update.fix;
    if (update.fix) {
      const { lat, lon, accuracy, t } = update;
      this.position = { lat, lon, accuracy, t };
    }
    this.#parts.position.textContent = formatPosition(this.position, this.gpsLost);
    this.#parts.position.dataset.gps = this.gpsLost ? 'lost' : 'fix';
    this.#handlers.onPosition(this);
  }

  /**
   * @param {'no-key'|'other-key'|'wrong-key'|'server'} error
   * @param {string} message
   */
  #fail(error, message) {
    this.error = error;
    this.#setState('error', message);
    if (error !== 'server') this.#session?.setDecrypting(false);
  }

  /**
   * @param {'connecting'|'live'|'lost'|'ended'|'error'} state
   * @param {string} [message]
   */
  #setState(state, message = STATE_MESSAGES[state]) {
    this.state = state;
    this.message = message;
    this.#render();
    this.#handlers.onState?.(this);
  }

  #render() {
    const { root, state, message, ack } = this.#parts;
    root.dataset.state = this.state;
    ack.disabled = this.state !== 'live';
    if (this.error) root.dataset.error = this.error;
    else delete root.dataset.error;
    state.textContent = this.state;
    message.textContent = this.message;
  }
}

/**
 * @param {Stream} stream
 */
function buildElement(stream) {
  const ack = el('button', {
    type: 'button',
    className: 'tile-ack',
    textContent: 'Acknowledge',
    title: `Tell ${stream.camera}'s camera you have seen them (it vibrates)`,
    attrs: { part: 'ack button' },
  });
  const mute = el('button', { type: 'button', className: 'tile-mute', textContent: 'Unmute', attrs: { 'aria-pressed': 'false', part: 'mute button' } });
  const statsToggle = el('button', {
    type: 'button', className: 'tile-stats-toggle', textContent: 'Stats', title: 'Latency, bitrate, loss, recording, battery, signal',
    attrs: { 'aria-pressed': 'false', part: 'stats button' },
  });
  const fullscreen = el('button', {
    type: 'button', className: 'tile-fullscreen', textContent: 'Full', title: 'Fullscreen (F)',
    attrs: { 'aria-label': `Fullscreen ${stream.camera}`, part: 'fullscreen button' },
  });
  const close = el('button', {
    type: 'button',
    className: 'tile-close',
    textContent: '×',
    title: 'Close',
    attrs: { 'aria-label': `Close ${stream.camera}`, part: 'close button' },
  });
  const state = el('span', { className: 'tile-state', attrs: { part: 'state' } });
  const camera = el('span', { className: 'tile-camera', textContent: stream.camera, title: stream.camera, attrs: { part: 'camera' } });
  const head = el('header', { className: 'tile-head', attrs: { part: 'head' } }, camera, state, ack, mute, statsToggle, fullscreen, close);
  const help = el('p', { className: 'tile-help', hidden: true, attrs: { role: 'alert', part: 'help' } });

  const video = el('video', { autoplay: true, playsInline: true, muted: true, attrs: { part: 'video' } });
  const frame = el('canvas', { className: 'tile-frame', attrs: { 'aria-hidden': 'true', part: 'frame' } });
  const message = el('p', { className: 'tile-message', attrs: { role: 'status', part: 'message' } });
  const media = el('div', { className: 'tile-media', attrs: { part: 'media' } }, video, frame, message);

  const position = el('span', { className: 'tile-position', textContent: 'No position yet', attrs: { part: 'position' } });
  const verified = el('span', { className: 'tile-verified', hidden: true, attrs: { part: 'verified' } });
  const acknowledged = el('span', { className: 'tile-acknowledged', attrs: { role: 'status', part: 'acknowledged' } });
  const foot = el('footer', { className: 'tile-foot', attrs: { part: 'foot' } }, verified, position, acknowledged);
  const root = el('article', { className: 'tile', dataset: { streamId: stream.id, verified: 'pending' }, attrs: { part: 'tile' } }, head, help, media, foot);
  return { root, video, frame, message, media, state, ack, mute, statsToggle, fullscreen, close, help, position, verified, acknowledged };
}

/** @param {string | Date} time @returns {string} HH:MM:SS in this browser's locale */
function clockTime(time) {
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? String(time) : date.toLocaleTimeString();
}

/**
 * @param {Position | null} position the last fix
 * @param {boolean} lost the camera reports no fix now
 */
function formatPosition(position, lost) {
  if (!position) return lost ? 'GPS lost · no fix yet' : 'No position yet';
  const { lat, lon, accuracy, t } = position;
  if (lost) return `GPS lost · last fix ${Number.isFinite(t) ? new Date(t).toLocaleTimeString() : '?'}`;
  let text = `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
  if (Number.isFinite(accuracy)) text += ` ±${Math.round(accuracy)} m`;
  if (Number.isFinite(t)) text += ` · ${new Date(t).toLocaleTimeString()}`;
  return text;
}
