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
 *
 * Verification (stream-verifier.js), beside decryption: once the page posts the verified
 * manifest (`{type: 'verify', manifest, clock}`), the camera's checkpoints
 * (`{type: 'checkpoint', token}`) and its sealed data messages (`{type: 'data', data}`,
 * answered with `{type: 'position', update}`), every decrypted unit is checked against
 * them (the frame goes on at once; its hash is checked when its checkpoint comes). The
 * first accepted checkpoint is reported as `{type: 'verification', state: 'verified',
 * serial}`; a failure as `{type: 'verification', state: 'failed', reason, message}`, and
 * from then on no frame reaches the decoder. `{type: 'stats'}` is answered with the
 * verification cost (`{type: 'stats', frames, verifyMs, holdMs}`).
 */
import { readPosition } from './camera-data.js';
import { FrameCipher } from './e2ee.js';
import { StreamVerifier, VerificationError, unitHash, unitOf } from './stream-verifier.js';

const FAILURES_BEFORE_FAILED = 5;
const CHECK_EVERY_MS = 250;

/** @type {FrameCipher | null} */
let cipher = null;
/** @type {StreamVerifier | null} */
let verifier = null;
/** Verification failed: nothing more is decoded. */
let halted = false;
/** The first checkpoint was accepted and reported. */
let announced = false;
/** Cost: frames passed, ms spent verifying them (hashing, in parallel with decryption, and checks), ms they were held in the transform. */
const cost = { frames: 0, verifyMs: 0, holdMs: 0 };
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
  } else if (data.type === 'verify') {
    verifier = new StreamVerifier(data.manifest, data.clock);
    setInterval(() => verified(() => verifier.check()), CHECK_EVERY_MS);
  } else if (data.type === 'checkpoint') {
    verifier?.acceptCheckpoint(data.token).then(() => {
      if (!announced && !halted) self.postMessage({ type: 'verification', state: 'verified', serial: verifier.serial });
      announced = true;
    }, failVerification);
  } else if (data.type === 'data') {
    openData(data.data);
  } else if (data.type === 'stats') {
    self.postMessage({ type: 'stats', ...cost });
  }
};

/**
 * Run a verification step; a failure halts the stream and is reported.
 * @param {() => void} step
 * @returns {boolean} whether the step passed
 */
function verified(step) {
  try {
    step();
    return true;
  } catch (error) {
    failVerification(error);
    return false;
  }
}

/** @param {unknown} error */
function failVerification(error) {
  if (!(error instanceof VerificationError)) throw error;
  if (halted) return;
  halted = true;
  self.postMessage({ type: 'verification', state: 'failed', reason: error.reason, message: error.message });
}

/**
 * A sealed data message from the camera: a position, checked (fresh, new, signed) when
 * the stream is verified.
 * @param {ArrayBuffer} data
 */
async function openData(data) {
  if (!cipher || halted) return;
  const [update, hash] = await Promise.all([readPosition(cipher, data), verifier ? unitHash(data) : null]);
  if (!update) return;
  const checked = () => {
    const { kid, ctr } = unitOf('camera_data', new Uint8Array(data));
    verifier.checkPosition(update.t);
    verifier.noteUnit(kid, ctr, hash);
  };
  if (verifier && !verified(checked)) return;
  self.postMessage({ type: 'position', update });
}

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
    if (!cipher || halted) {
      stats.dropped += 1;
      return;
    }
    const arrived = performance.now();
    let hash = null;
    try {
      const sealed = frame.data;
      const hashing = verifier ? timed(() => unitHash(sealed)) : null;
      frame.data = (await cipher.decryptFrame(kind, sealed)).buffer;
      if (hashing) hash = { ...(await hashing), ...unitOf(kind, new Uint8Array(sealed)) };
    } catch {
      stats.failed += 1;
      consecutiveFailures += 1;
      if (consecutiveFailures >= FAILURES_BEFORE_FAILED && state !== 'failed') report('failed');
      return;
    }
    stats.decrypted += 1;
    consecutiveFailures = 0;
    if (hash) {
      const checking = performance.now();
      if (!verified(() => verifier.noteUnit(hash.kid, hash.ctr, hash.value))) {
        stats.dropped += 1;
        return;
      }
      cost.verifyMs += hash.ms + performance.now() - checking;
    }
    cost.frames += 1;
    cost.holdMs += performance.now() - arrived;
    controller.enqueue(frame);
    if (state !== 'ok') report('ok');
  };

  readable
    .pipeThrough(new TransformStream({ transform }))
    .pipeTo(writable)
    .catch(() => {}); // the peer connection closed
}

/**
 * @param {() => Promise<Uint8Array>} work
 * @returns {Promise<{value: Uint8Array, ms: number}>} its result and how long it took
 */
async function timed(work) {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}
