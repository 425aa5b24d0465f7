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
 * answered with `{type: 'position', update}`, `{type: 'status', status}` or
 * `{type: 'help', t}`; camera-data.js), every decrypted unit is checked against
 * them (the frame goes on at once; its hash is checked when its checkpoint comes). The
 * first accepted checkpoint is reported as `{type: 'verification', state: 'verified',
 * serial}`; a failure as `{type: 'verification', state: 'failed', reason, message}`, and
 * from then on no frame reaches the decoder. `{type: 'stats'}` is answered with the
 * verification cost (`{type: 'stats', frames, verifyMs, holdMs}`).
 *
 * Latency: the camera's status names its last video frame (SFrame counter) and when it
 * was captured; once that frame has decrypted here the page gets `{type: 'capture', rtp,
 * t}` (its RTP timestamp and capture time), which it matches with the frame shown.
 */
import { messageTime, readCameraData } from './camera-data.js';
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
/** SFrame counter → RTP timestamp of the last video frames decrypted, and captures waiting for their frame. */
const recentFrames = new Map();
const waitingCaptures = new Map();
const FRAMES_KEPT = 300; // 10 s of video: the data channel may run that far ahead of or behind it
const CAPTURES_KEPT = 10;

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
 * A sealed data message from the camera, checked (fresh, new, signed) when the stream is
 * verified: a position, a status or a help request.
 * @param {ArrayBuffer} data
 */
async function openData(data) {
  if (!cipher || halted) return;
  const [message, hash] = await Promise.all([readCameraData(cipher, data), verifier ? unitHash(data) : null]);
  if (!message) return;
  const checked = () => {
    const { kid, ctr } = unitOf('camera_data', new Uint8Array(data));
    verifier.checkPosition(messageTime(message)); // every camera message is fresh, not only positions
    verifier.noteUnit(kid, ctr, hash);
  };
  if (verifier && !verified(checked)) return;
  if (message.type === 'position') self.postMessage({ type: 'position', update: message.position });
  else if (message.type === 'help') self.postMessage({ type: 'help', t: message.t });
  else {
    self.postMessage({ type: 'status', status: message.status });
    const frame = message.status.frame;
    if (frame && recentFrames.has(frame.ctr)) self.postMessage({ type: 'capture', rtp: recentFrames.get(frame.ctr), t: frame.t });
    else if (frame) {
      waitingCaptures.set(frame.ctr, frame.t);
      if (waitingCaptures.size > CAPTURES_KEPT) waitingCaptures.delete(waitingCaptures.keys().next().value);
    }
  }
}

/**
 * Note a decrypted video frame for latency (see the top).
 * @param {ArrayBuffer} sealed
 * @param {RTCEncodedVideoFrame} frame
 */
function noteVideoFrame(sealed, frame) {
  const { ctr } = unitOf('video', new Uint8Array(sealed));
  const rtp = frame.getMetadata?.().rtpTimestamp ?? frame.timestamp;
  recentFrames.set(ctr, rtp);
  if (recentFrames.size > FRAMES_KEPT) recentFrames.delete(recentFrames.keys().next().value);
  if (waitingCaptures.has(ctr)) {
    self.postMessage({ type: 'capture', rtp, t: waitingCaptures.get(ctr) });
    waitingCaptures.delete(ctr);
  }
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
    const sealed = frame.data;
    try {
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
    if (kind === 'video') noteVideoFrame(sealed, frame);
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
