/**
 * Receive-side frame decryption for one tile, run as a module Worker.
 *
 * Frames arrive either through RTCRtpScriptTransform (`rtctransform` event, options
 * `{kind: 'video'|'audio', tileId}`) or, on browsers without it, through Chromium's
 * createEncodedStreams: the page posts `{type: 'streams', readable, writable, kind}`.
 * The page posts the stream key as `{type: 'key', key: StreamKey}` (e2ee.js), possibly after
 * frames already flow.
 *
 * Only decrypted frames ever reach the decoder: a frame that arrives before the key,
 * or fails to decrypt, is dropped. State changes go back to the page as
 * `{type: 'state', kind, tileId, state: 'ok'|'failed', decrypted, failed, dropped}`:
 * 'ok' on the first good frame (and after recovering), 'failed' after
 * FAILURES_BEFORE_FAILED consecutive failures.
 */
import { FrameCipher } from './e2ee.js';

const FAILURES_BEFORE_FAILED = 5;

/** @type {FrameCipher | null} */
let cipher = null;
/** Video transformers of this tile, asked for a key frame once the key arrives. */
const videoTransformers = new Set();

self.onmessage = ({ data }) => {
  if (data.type === 'key') {
    cipher = new FrameCipher(data.key);
    for (const transformer of videoTransformers) {
      transformer.sendKeyFrameRequest?.()?.catch(() => {});
    }
  } else if (data.type === 'streams') {
    decryptStream(data.readable, data.writable, { kind: data.kind, tileId: data.tileId });
  }
};

self.onrtctransform = ({ transformer }) => {
  if (transformer.options.kind === 'video') videoTransformers.add(transformer);
  decryptStream(transformer.readable, transformer.writable, transformer.options);
};

/**
 * Pipe encoded frames through decryption, dropping what cannot be decrypted.
 * @param {ReadableStream} readable encoded frames from the depacketizer
 * @param {WritableStream} writable towards the decoder
 * @param {{kind: 'video'|'audio', tileId?: string}} options
 */
function decryptStream(readable, writable, { kind, tileId }) {
  const stats = { decrypted: 0, failed: 0, dropped: 0 };
  let consecutiveFailures = 0;
  let state = 'waiting';

  const report = (next) => {
    state = next;
    self.postMessage({ type: 'state', kind, tileId, state, ...stats });
  };

  const transform = async (frame, controller) => {
    if (!cipher) {
      stats.dropped += 1;
      return;
    }
    try {
      frame.data = (await cipher.decryptFrame(kind, frame.data)).buffer;
    } catch {
      stats.failed += 1;
      consecutiveFailures += 1;
      if (consecutiveFailures >= FAILURES_BEFORE_FAILED && state !== 'failed') report('failed');
      return;
    }
    stats.decrypted += 1;
    consecutiveFailures = 0;
    controller.enqueue(frame);
    if (state !== 'ok') report('ok');
  };

  readable
    .pipeThrough(new TransformStream({ transform }))
    .pipeTo(writable)
    .catch(() => {}); // the peer connection closed
}
