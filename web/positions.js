/**
 * The map's source of positions: for each live stream, a data-only WHEP subscription
 * (no media) whose `bwlive` data channel carries the camera's encrypted positions,
 * decrypted here.
 */
import { readPosition } from './camera-data.js';
import { openContentKey } from './content-key.js';
import { FrameCipher } from './e2ee.js';
import { WhepSession } from './whep.js';

/**
 * @typedef {import('./streams.js').Stream} Stream
 * @typedef {import('./camera-data.js').Position} Position
 */

class Feed {
  closed = false;

  /**
   * @param {Stream} stream
   * @param {import('./e2ee.js').StreamKey} contentKey
   * @param {(position: Position) => void} onPosition
   */
  constructor(stream, contentKey, onPosition) {
    const cipher = new FrameCipher(contentKey);
    this.session = new WhepSession(stream.id, null);
    this.session.channel.onmessage = async ({ data }) => {
      const position = await readPosition(cipher, data);
      if (position && !this.closed) onPosition(position);
    };
  }

  async open() {
    try {
      await this.session.connect();
    } catch {
      this.close(); // gone, or refused: the map shows nothing for it
    }
  }

  close() {
    this.closed = true;
    this.session.close();
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
