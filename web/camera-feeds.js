/**
 * The cameras' sealed messages without their pictures (the map's positions, the admin's
 * camera status): for each live stream, a data-only WHEP subscription (no media) whose
 * `bwlive` data channel carries the camera's encrypted messages (positions, status, help),
 * decrypted here with a key this browser holds, and its checkpoints: with the link's
 * signing key, each message is checked as a tile checks it (stream-verifier.js: a manifest
 * the camera signed, fresh, new, named by a checkpoint); a stream that fails is reported
 * and followed no more. A link without a signing key gives messages unchecked, as its
 * tiles play unchecked.
 */
import { messageTime, readCameraData } from './camera-data.js';
import { ContentKeyError, openContentKey } from './content-key.js';
import { FrameCipher } from './e2ee.js';
import { StreamVerifier, VerificationError, unitHash, unitOf, verifyManifest } from './stream-verifier.js';
import { WhepSession } from './whep.js';

const CHECK_EVERY_MS = 1000;

/**
 * @typedef {import('./streams.js').Stream} Stream
 * @typedef {import('./camera-data.js').CameraMessage} CameraMessage
 */

class Feed {
  closed = false;
  #timer = 0;

  /**
   * @param {Stream} stream
   * @param {import('./e2ee.js').StreamKey} contentKey
   * @param {StreamVerifier | null} verifier null: the link has no signing key
   * @param {(message: CameraMessage) => void} onMessage
   * @param {(error: VerificationError) => void} onFailed
   */
  constructor(stream, contentKey, verifier, onMessage, onFailed) {
    const cipher = new FrameCipher(contentKey);
    const failed = (error) => {
      if (!(error instanceof VerificationError)) throw error;
      if (!this.closed) onFailed(error);
      this.close();
    };
    this.session = new WhepSession(stream.id, null);
    this.session.channel.onmessage = async ({ data }) => {
      if (typeof data === 'string') {
        const token = checkpointToken(data);
        if (token && verifier) verifier.acceptCheckpoint(token).catch(failed);
        return;
      }
      const [message, hash] = await Promise.all([readCameraData(cipher, data), verifier ? unitHash(data) : null]);
      if (!message || this.closed) return;
      if (verifier) {
        try {
          const { kid, ctr } = unitOf('camera_data', new Uint8Array(data));
          verifier.checkPosition(messageTime(message)); // every camera message (status, help too) is fresh
          verifier.noteUnit(kid, ctr, hash);
        } catch (error) {
          failed(error);
          return;
        }
      }
      onMessage(message);
    };
    if (verifier) {
      this.#timer = setInterval(() => {
        try {
          verifier.check();
        } catch (error) {
          failed(error);
        }
      }, CHECK_EVERY_MS);
    }
  }

  async open() {
    try {
      await this.session.connect();
    } catch {
      this.close(); // gone, or refused: nothing to show for it
    }
  }

  close() {
    this.closed = true;
    clearInterval(this.#timer);
    this.session.close();
  }
}

/**
 * The token of a checkpoint message (sent in clear beside the sealed positions), or null.
 * @param {string} data
 */
function checkpointToken(data) {
  try {
    const message = JSON.parse(data);
    return message?.type === 'checkpoint' && typeof message.token === 'string' ? message.token : null;
  } catch {
    return null;
  }
}

export class CameraFeeds {
  /** @type {Map<string, Feed | null>} null: no key for that stream, or not open yet */
  #feeds = new Map();
  #onMessage;
  #onFailed;
  #onNoKey;
  #clock;

  /**
   * @param {object} handlers
   * @param {(stream: Stream, message: CameraMessage) => void} handlers.onMessage each message,
   *   decrypted (and checked, with a signing key)
   * @param {(stream: Stream, error: VerificationError) => void} handlers.onFailed its messages
   *   are not what the camera signed: show none of them
   * @param {(stream: Stream, error: ContentKeyError) => void} [handlers.onNoKey] this browser
   *   holds no key that opens the stream's
   * @param {() => import('./stream-verifier.js').ClockCheck | null} handlers.clock this
   *   computer's clock against the server's
   */
  constructor({ onMessage, onFailed, onNoKey, clock }) {
    this.#onMessage = onMessage;
    this.#onFailed = onFailed;
    this.#onNoKey = onNoKey ?? (() => {});
    this.#clock = clock;
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
    } catch (error) {
      if (!(error instanceof ContentKeyError)) throw error;
      this.#onNoKey(stream, error);
      return; // no key for it: nothing to show
    }
    const envelope = stream.key_envelope;
    const signingKey = keys.find((key) => key.keyId === envelope?.kid)?.signingKey;
    let verifier = null;
    if (signingKey) {
      try {
        verifier = new StreamVerifier(await verifyManifest(stream.manifest, { signingKey, envelope }), this.#clock() ?? {});
      } catch (error) {
        if (!(error instanceof VerificationError)) throw error;
        this.#onFailed(stream, error);
        return; // not made by the camera it names: none of its messages count
      }
    }
    if (!this.#feeds.has(stream.id)) return; // ended meanwhile
    const feed = new Feed(stream, contentKey, verifier, (message) => this.#onMessage(stream, message),
      (error) => this.#onFailed(stream, error));
    this.#feeds.set(stream.id, feed);
    await feed.open();
  }
}
