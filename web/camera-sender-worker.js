/**
 * Send-side frame encryption of a phone camera, run as a module Worker behind
 * RTCRtpScriptTransform (options `{kind: 'video'|'audio'}`): every encoded frame
 * Chromium's encoder makes is sealed as the camera agent seals it (PROTOCOL §3: the
 * clear codec prefix, the SFrame header with KID 0 or 1 and the next counter, AES-GCM),
 * and reported to the page as `{type: 'unit', kid, ctr, hash}` for the checkpoint chain.
 * The page posts the stream key as `{type: 'key', key: StreamKey}` before it sends;
 * frames before it (and empty ones) are dropped, never sent in clear.
 */
import { FrameCipher, KINDS } from './e2ee.js';
import { unitHash } from './stream-verifier.js';

/** @type {FrameCipher | null} */
let cipher = null;
/** The next counter of each kind (one sender: the camera's media base key; KIDs 0 and 1). */
const counters = { video: 0, audio: 0 };

self.onmessage = ({ data }) => {
  if (data.type === 'key') cipher = new FrameCipher(data.key);
};

self.onrtctransform = ({ transformer }) => {
  const { kind } = transformer.options;
  transformer.readable
    .pipeThrough(new TransformStream({ transform: (frame, controller) => seal(kind, frame, controller) }))
    .pipeTo(transformer.writable);
};

/**
 * @param {'video'|'audio'} kind
 * @param {RTCEncodedVideoFrame | RTCEncodedAudioFrame} frame
 * @param {TransformStreamDefaultController} controller
 */
async function seal(kind, frame, controller) {
  if (!cipher || frame.data.byteLength === 0) return;
  const ctr = counters[kind]++;
  const sealed = await cipher.encryptFrame(kind, frame.data, ctr);
  frame.data = sealed.buffer;
  controller.enqueue(frame);
  self.postMessage({ type: 'unit', kid: KINDS[kind], ctr, hash: await unitHash(sealed) });
}
