/**
 * The map's source of positions: for each live stream, a WHEP subscription of its own
 * whose data channel carries the camera's encrypted positions, decrypted here. The
 * server forwards only subscriptions that receive some media, so it asks for the
 * stream's audio (small; decrypted by the worker, never played) and, for a camera
 * without audio, its video (decoded, never shown).
 */
import { readPosition } from './camera-data.js';
import { openContentKey } from './content-key.js';
import { FrameCipher } from './e2ee.js';
import { WhepError, WhepSession } from './whep.js';

const WORKER_URL = new URL('./e2ee-worker.js', import.meta.url);
let feedCount = 0;

/**
 * @typedef {import('./streams.js').Stream} Stream
 * @typedef {import('./camera-data.js').Position} Position
 */

class Feed {
  /** @type {WhepSession | null} */
  session = null;
  closed = false;
  #worker = new Worker(WORKER_URL, { type: 'module' });

  /**
   * @param {Stream} stream
   * @param {CryptoKey} contentKey
   * @param {(position: Position) => void} onPosition
   */
  constructor(stream, contentKey, onPosition) {
    this.stream = stream;
    this.cipher = new FrameCipher(contentKey);
    this.onPosition = onPosition;
    this.#worker.postMessage({ type: 'key', key: contentKey });
    this.#worker.onmessage = ({ data }) => this.session?.setDecrypting(data.state === 'ok');
  }

  async open() {
    for (const kinds of [['audio'], ['video']]) {
      if (this.closed) return;
      const session = new WhepSession(this.stream.id, { worker: this.#worker, tileId: `map-${++feedCount}`, kinds });
      this.session = session;
      session.channel.onmessage = async ({ data }) => {
        const position = await readPosition(this.cipher, data);
        if (position && !this.closed) this.onPosition(position);
      };
      try {
        await session.connect();
        return;
      } catch (error) {
        session.close();
        if (!(error instanceof WhepError && error.status === 400)) return; // gone, or refused
      }
    }
  }

  close() {
    this.closed = true;
    this.session?.close();
    this.#worker.terminate();
  }
}

export class PositionFeeds {
  /** @type {Map<string, Feed | null>} null: no key for that stream */
  #feeds = new Map();
  #onPosition;

  /** @param {(stream: Stream, position: Position) => void} onPosition */
  constructor(onPosition) {
    this.#onPosition = onPosition;
  }

  /**
   * Follow exactly these streams (those whose key this browser cannot open are skipped).
   * @param {Stream[]} streams
   * @param {import('./keystore.js').KeyRecord[]} keys
   */
  follow(streams, keys) {
    const wanted = new Set(streams.map((stream) => stream.id));
    for (const [id, feed] of this.#feeds) {
      if (!wanted.has(id)) {
        feed?.close();
        this.#feeds.delete(id);
      }
    }
    for (const stream of streams) {
      if (!this.#feeds.has(stream.id)) this.#open(stream, keys);
    }
  }

  close() {
    this.follow([], []);
  }

  /**
   * @param {Stream} stream
   * @param {import('./keystore.js').KeyRecord[]} keys
   */
  async #open(stream, keys) {
    this.#feeds.set(stream.id, null);
    let contentKey;
    try {
      contentKey = await openContentKey(stream.key_envelope, keys, 'Stream');
    } catch {
      return; // no key for it: nothing to show (the stream list says "no key")
    }
    if (!this.#feeds.has(stream.id)) return; // ended meanwhile
    const feed = new Feed(stream, contentKey, (position) => this.#onPosition(stream, position));
    this.#feeds.set(stream.id, feed);
    await feed.open();
  }
}
