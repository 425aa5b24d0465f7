/**
 * One stream on screen: its WHEP subscription, its decrypting worker, and the tile
 * element showing the video, the state, errors and the camera's last position.
 *
 * Test hooks on the element: `data-stream-id`, `data-state`
 * ('connecting'|'live'|'ended'|'error'), `data-error` ('no-key'|'other-key'|
 * 'wrong-key'|'server', only in the error state), `.tile-message`, `video`,
 * `.tile-position`.
 */
import { FrameCipher, thumbprintOf, unwrapContentKey } from './e2ee.js';
import { WhepError, WhepSession } from './whep.js';

const WORKER_URL = new URL('./e2ee-worker.js', import.meta.url);
const STATE_MESSAGES = { connecting: 'Connecting…', live: 'Live', ended: 'Stream ended.' };
export const NO_KEY_MESSAGE =
  'No decryption key in this browser. Open the link with key your administrator gave you.';
const WRONG_KEY_MESSAGE = 'Frames cannot be decrypted (wrong key).';
const decoder = new TextDecoder();
let tileCount = 0;

/**
 * @typedef {import('./streams.js').Stream} Stream
 * @typedef {import('./keystore.js').KeyRecord} KeyRecord
 * @typedef {{lat: number, lon: number, accuracy?: number, t?: number}} Position
 */

export class Tile {
  /** @type {HTMLElement} */
  element;
  /** @type {'connecting'|'live'|'ended'|'error'} */
  state = 'connecting';
  /** @type {string} the text shown on the tile */
  message = STATE_MESSAGES.connecting;
  /** @type {'no-key'|'other-key'|'wrong-key'|'server'|null} */
  error = null;
  /** @type {Position | null} */
  position = null;

  #stream;
  #keys;
  #handlers;
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
  #parts;

  /**
   * @param {Stream} stream
   * @param {KeyRecord[]} keys the keys this browser holds
   * @param {object} handlers
   * @param {(tile: Tile) => void} handlers.onClose after the tile left the page
   * @param {(tile: Tile) => void} handlers.onUnmute the tile became audible
   * @param {(tile: Tile) => void} handlers.onPosition a new position arrived
   */
  constructor(stream, keys, handlers) {
    this.#stream = stream;
    this.#keys = keys;
    this.#handlers = handlers;
    this.#parts = buildElement(stream);
    this.element = this.#parts.root;
    this.#parts.close.onclick = () => this.close();
    this.#parts.mute.onclick = () => this.setMuted(!this.#parts.video.muted);
    this.#render();
  }

  /** @returns {string} */
  get streamId() {
    return this.#stream.id;
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
    this.#worker = new Worker(WORKER_URL, { type: 'module' });
    this.#worker.onmessage = ({ data }) => this.#onDecryptState(data);
    const session = new WhepSession(this.streamId, this.#worker, `tile-${++tileCount}`);
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
   * The stream is over (gone from the list, or the server dropped us).
   * @param {string} [reason]
   */
  end(reason = STATE_MESSAGES.ended) {
    if (this.#closed || this.state === 'ended') return;
    this.error = null;
    this.#setState('ended', reason);
    this.#stop();
  }

  /** Leave the stream and remove the tile. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#stop();
    this.element.remove();
    this.#handlers.onClose(this);
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
    this.#session?.close();
    this.#worker?.terminate();
  }

  /** Unwrap the stream's envelope with the key whose id is its kid; give it to the worker. */
  async #loadContentKey() {
    const envelope = this.#stream.key_envelope;
    const kid = String(envelope?.kid ?? '');
    if (this.#keys.length === 0) {
      this.#fail('no-key', NO_KEY_MESSAGE);
      return;
    }
    const record = this.#keys.find((key) => key.keyId === kid);
    if (!record) {
      const held = this.#keys.map((key) => key.thumbprint).join(', ');
      this.#fail(
        'other-key',
        `Stream encrypted to another key: ${/^[0-9a-f]{32}$/.test(kid) ? thumbprintOf(kid) : '?'} ` +
          `(kid ${kid || 'missing'}). This browser holds ${held}.`,
      );
      return;
    }
    let contentKey;
    try {
      contentKey = await unwrapContentKey(envelope, record.privateKey);
    } catch {
      this.#fail('wrong-key', WRONG_KEY_MESSAGE);
      return;
    }
    this.#cipher = new FrameCipher(contentKey);
    this.#worker.postMessage({ type: 'key', key: contentKey });
  }

  /**
   * A report from the worker: live once frames decrypt, an error when they fail.
   * @param {{kind: 'video'|'audio', state: 'ok'|'failed'}} report
   */
  #onDecryptState({ kind, state }) {
    if (this.#closed || this.state === 'ended' || this.error === 'server') return;
    this.#decryptStates[kind] = state;
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
   * A camera → browser data message (an encrypted camera_data frame).
   * @param {ArrayBuffer | string} data
   */
  async #onChannelMessage(data) {
    if (!this.#cipher || !(data instanceof ArrayBuffer)) return;
    let message;
    try {
      message = JSON.parse(decoder.decode(await this.#cipher.decryptFrame('camera_data', data)));
    } catch {
      return; // not for us, or altered: ignored like an undecryptable media frame
    }
    if (message?.type !== 'position' || !Number.isFinite(message.lat) || !Number.isFinite(message.lon)) {
      return;
    }
    const { lat, lon, accuracy, t } = message;
    this.position = { lat, lon, accuracy, t };
    this.#parts.position.textContent = formatPosition(this.position);
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
   * @param {'connecting'|'live'|'ended'|'error'} state
   * @param {string} [message]
   */
  #setState(state, message = STATE_MESSAGES[state]) {
    this.state = state;
    this.message = message;
    this.#render();
  }

  #render() {
    const { root, state, message } = this.#parts;
    root.dataset.state = this.state;
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
  const root = element('article', 'tile');
  root.dataset.streamId = stream.id;
  const head = element('header', 'tile-head');
  const camera = element('span', 'tile-camera', stream.camera);
  const state = element('span', 'tile-state');
  const mute = element('button', 'tile-mute', 'Unmute');
  mute.type = 'button';
  mute.setAttribute('aria-pressed', 'false');
  const close = element('button', 'tile-close', '×');
  close.type = 'button';
  close.title = 'Close';
  close.setAttribute('aria-label', `Close ${stream.camera}`);
  head.append(camera, state, mute, close);

  const media = element('div', 'tile-media');
  const video = element('video');
  video.autoplay = true;
  video.playsInline = true;
  video.muted = true;
  const message = element('p', 'tile-message');
  message.setAttribute('role', 'status');
  media.append(video, message);

  const position = element('footer', 'tile-position', 'No position yet');
  root.append(head, media, position);
  return { root, video, message, state, mute, close, position };
}

/**
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 */
function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** @param {Position} position */
function formatPosition({ lat, lon, accuracy, t }) {
  let text = `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
  if (Number.isFinite(accuracy)) text += ` ±${Math.round(accuracy)} m`;
  if (Number.isFinite(t)) text += ` · ${new Date(t).toLocaleTimeString()}`;
  return text;
}
