/**
 * Verifying a signed stream in the browser (PROTOCOL §5, §5.5), with WebCrypto Ed25519:
 * the manifest up to the system signing key of the link with key ({@link verifyManifest}),
 * then, per stream, the camera's checkpoints in order and every sealed unit against them
 * ({@link StreamVerifier}): its counter is new (a replay window per KID), its hash is the
 * one the camera signed (within {@link UNCONFIRMED_MS}), and positions are fresh. No DOM
 * use: the tile and the decrypting worker use it, and so can any other player.
 */
import { b64uDecode, b64uEncode, clearPrefixLength, decodeHeader } from './e2ee.js';

/** A unit may wait this long for the checkpoint that names it (checkpoints come every 0.5 s). */
export const UNCONFIRMED_MS = 2500;
/** A checkpoint older than this (camera clock, against the clock-checked now) is not live. */
export const LIVE_MS = 3000;
/** Units stopped coming this long ago: the camera is lost (the stream list says so), not unsigned. */
export const QUIET_MS = 1000;
/** A position older than this is stale. */
export const POSITION_STALE_MS = 5000;
/** Counters per KID remembered; a counter seen before or older than this is a replay. */
export const REPLAY_WINDOW = 128;
/** The cipher suite of an envelope that does not name one (PROTOCOL §3). */
const DEFAULT_SUITE = 4;
const CERTIFICATE = 'bwlive-cert-v2';
const MANIFEST = 'bwlive-manifest-v1';
const CHECKPOINT = 'bwlive-checkpoint-v1';
const HASH_BYTES = 16;
const SIGNED_KEPT = 1024; // signed hashes kept per KID for units still to come
const UNIT_WORDS = ['video frame', 'audio frame', 'position'];
const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The stream is not what its camera signed; the message says why, for the operator. */
export class VerificationError extends Error {
  /**
   * @param {'manifest'|'chain'|'not-live'|'silent'|'unsigned'|'altered'|'replay'|'stale'} reason
   * @param {string} message
   */
  constructor(reason, message) {
    super(message);
    this.name = 'VerificationError';
    this.reason = reason;
  }
}

/**
 * @typedef {{serial: string, cameraUser: string, organisationId: string, startedAt: number,
 *   suite: number, deviceKey: CryptoKey, payload: Uint8Array}} VerifiedManifest
 * @typedef {{offsetMs?: number | null, toleranceS?: number | null}} ClockCheck this
 *   computer's clock against the server's (clock.js)
 */

/**
 * Check a stream's manifest: its certificate signed by the system signing key and valid
 * when the stream started, the manifest signed by the certified device key and naming
 * the certificate's camera, and the envelope the stream's key is opened from.
 * @param {string | null | undefined} token the stream's `manifest`
 * @param {{signingKey: string, envelope: object}} trust the link's system signing key (b64u
 *   raw Ed25519) and the stream's key envelope
 * @returns {Promise<VerifiedManifest>}
 * @throws {VerificationError}
 */
export async function verifyManifest(token, { signingKey, envelope }) {
  const fail = (message) => new VerificationError('manifest', message);
  if (!token) throw fail('the stream has no manifest signed by its camera');
  const manifest = readToken(token, MANIFEST, 'stream manifest');
  const m = manifest.data;
  const certificate = readToken(m.certificate, CERTIFICATE, 'camera certificate');
  const c = certificate.data;
  const serial = String(c.serial);
  let systemKey;
  try {
    systemKey = await ed25519(b64uDecode(signingKey));
  } catch {
    throw fail("the link's signing key is damaged: ask your administrator for a new link");
  }
  if (!(await signedBy(systemKey, certificate))) {
    throw fail(`camera ${serial} is not certified by this system's signing key`);
  }
  if (!(c.issued_at <= m.started_at && m.started_at < c.expires_at)) {
    throw fail(`the certificate of camera ${serial} was not valid when the stream started`);
  }
  let deviceKey;
  try {
    deviceKey = await ed25519(b64uDecode(String(c.device_key)));
  } catch {
    throw fail(`the certificate of camera ${serial} names no device key`);
  }
  if (!(await signedBy(deviceKey, manifest))) throw fail(`the stream manifest is not signed by camera ${serial}`);
  if (m.serial !== c.serial || m.camera_user !== c.camera_user || m.organisation_id !== c.organisation_id) {
    throw fail(`the manifest names camera ${m.serial}, its certificate camera ${serial}`);
  }
  if (m.envelope !== (await envelopeDigest(envelope))) throw fail(`the stream key was not made by camera ${serial}`);
  if (m.suite !== (envelope?.suite ?? DEFAULT_SUITE)) {
    throw fail(`the stream's cipher suite is not the one camera ${serial} signed`);
  }
  return {
    serial, cameraUser: String(c.camera_user), organisationId: String(c.organisation_id),
    startedAt: m.started_at, suite: m.suite, deviceKey, payload: manifest.payload,
  };
}

/**
 * The camera serial a stream's manifest names, unverified (null: none readable): which
 * device the stream says it comes from, to follow that device from stream to stream. The
 * tile showing the stream verifies it ({@link verifyManifest}).
 * @param {string | null | undefined} token the stream's `manifest`
 * @returns {string | null}
 */
export function claimedDevice(token) {
  try {
    const serial = readToken(token, MANIFEST, 'stream manifest').data.serial;
    return typeof serial === 'string' && serial ? serial : null;
  } catch {
    return null;
  }
}

/**
 * b64u SHA-256 of an envelope's canonical JSON (PROTOCOL §5.3).
 * @param {object} envelope
 */
export async function envelopeDigest(envelope) {
  return b64uEncode(new Uint8Array(await subtle.digest('SHA-256', encoder.encode(canonicalJson(envelope)))));
}

/**
 * The (KID, counter) of a sealed unit as it arrived.
 * @param {'video'|'audio'|'camera_data'} kind
 * @param {Uint8Array} sealed
 * @returns {{kid: number, ctr: number}}
 * @throws {import('./e2ee.js').DecryptError} when it has no SFrame header
 */
export function unitOf(kind, sealed) {
  const { kid, ctr } = decodeHeader(sealed, clearPrefixLength(kind, sealed[0]));
  return { kid: Number(kid), ctr: Number(ctr) };
}

/**
 * The hash a checkpoint lists for a sealed unit: SHA-256, first 16 bytes.
 * @param {BufferSource} sealed
 * @returns {Promise<Uint8Array>}
 */
export async function unitHash(sealed) {
  return new Uint8Array(await subtle.digest('SHA-256', sealed), 0, HASH_BYTES);
}

/** One stream's checkpoints and sealed units, as they arrive. */
export class StreamVerifier {
  #manifest;
  #offsetMs;
  #toleranceMs;
  #now;
  /** @type {number | null} seq of the last accepted checkpoint */
  #seq = null;
  /** @type {Uint8Array | null} SHA-256 of its payload */
  #prev = null;
  #lastT;
  /** @type {number | null} local time the last checkpoint was accepted */
  #lastCheckpointAt = null;
  /** @type {number | null} the camera's clock minus the server's, from its freshest checkpoint */
  #cameraOffset = null;
  /** @type {Map<number, Map<number, Uint8Array>>} KID → counter → signed hash */
  #signed = new Map();
  /** @type {Map<string, {kid: number, ctr: number, hash: Uint8Array, at: number}>} units awaiting a checkpoint, oldest first */
  #pending = new Map();
  /** @type {Map<number, {highest: number, seen: Set<number>}>} */
  #windows = new Map();
  /** local time the newest unit arrived */
  #lastUnitAt = -Infinity;
  #queue = Promise.resolve();

  /**
   * @param {VerifiedManifest} manifest
   * @param {ClockCheck} [clock]
   * @param {() => number} [now] local time in ms (tests)
   */
  constructor(manifest, clock = {}, now = () => Date.now()) {
    this.#manifest = manifest;
    this.#offsetMs = clock.offsetMs ?? 0;
    this.#toleranceMs = (clock.toleranceS ?? 10) * 1000;
    this.#now = now;
    this.#lastT = manifest.startedAt;
  }

  /** @returns {string} the camera's serial */
  get serial() {
    return this.#manifest.serial;
  }

  /**
   * Take the next checkpoint (in arrival order, one after the other). The first one a
   * browser sees may be any (it joined mid-stream); each later one must follow it.
   * @param {string} token
   * @returns {Promise<number>} its seq
   * @throws {VerificationError}
   */
  acceptCheckpoint(token) {
    const run = this.#queue.then(() => this.#accept(token));
    this.#queue = run.catch(() => {});
    return run;
  }

  /** @param {string} token */
  async #accept(token) {
    const serial = this.serial;
    const checkpoint = readToken(token, CHECKPOINT, 'checkpoint');
    if (!(await signedBy(this.#manifest.deviceKey, checkpoint))) {
      throw new VerificationError('chain', `a checkpoint is not signed by camera ${serial}`);
    }
    const { seq, t, prev, frames } = checkpoint.data;
    if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(t) || typeof prev !== 'string' || !Array.isArray(frames)) {
      throw new VerificationError('chain', `a malformed checkpoint of camera ${serial}`);
    }
    const follows = this.#seq === null ? (seq === 0 ? await sha256(this.#manifest.payload) : null) : this.#prev;
    if (this.#seq !== null && seq !== this.#seq + 1) {
      throw new VerificationError('chain', `checkpoint ${seq} came where checkpoint ${this.#seq + 1} was due`);
    }
    if (follows && !equal(b64uDecode(prev), follows)) {
      throw new VerificationError('chain', `checkpoint ${seq} does not follow ${seq ? `checkpoint ${seq - 1}` : 'the manifest'}`);
    }
    if (t < this.#lastT) throw new VerificationError('chain', `checkpoint ${seq} is dated before the one it follows`);
    this.#checkLive(t);
    const units = frames.map(({ kid, first, hashes }) => ({ kid, first, hashes: b64uDecode(String(hashes)) }));
    if (this.#seq === null) this.#forgetEarlier(units);
    this.#seq = seq;
    this.#prev = await sha256(checkpoint.payload);
    this.#lastT = t;
    this.#lastCheckpointAt = this.#now();
    for (const { kid, first, hashes } of units) {
      for (let i = 0; i * HASH_BYTES < hashes.length; i++) {
        this.#sign(kid, first + i, hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES));
      }
    }
    return seq;
  }

  /**
   * At the first checkpoint this browser sees: the units that came before it and that it
   * does not name were named by checkpoints sent before this browser joined. They cannot
   * be checked (they were shown before the verified mark); later ones all are.
   * @param {{kid: number, first: number}[]} units
   */
  #forgetEarlier(units) {
    const firsts = new Map();
    for (const { kid, first } of units) firsts.set(kid, Math.min(first, firsts.get(kid) ?? first));
    for (const [key, unit] of this.#pending) {
      if (!(firsts.get(unit.kid) <= unit.ctr)) this.#pending.delete(key);
    }
  }

  /** @param {number} t a checkpoint's time (camera clock) */
  #checkLive(t) {
    const serverNow = this.#now() - this.#offsetMs;
    this.#cameraOffset = Math.max(this.#cameraOffset ?? -Infinity, t - serverNow);
    const age = serverNow + this.#cameraOffset - t;
    if (Math.abs(this.#cameraOffset) > this.#toleranceMs + LIVE_MS || age > LIVE_MS) {
      throw new VerificationError('not-live', `not live: signed by camera ${this.serial} at ${clockTime(t)}`);
    }
  }

  /**
   * A checkpoint names (kid, ctr) with `hash`: confirm the unit that waits for it, or keep
   * the hash for the unit still to come.
   */
  #sign(kid, ctr, hash) {
    const key = `${kid}:${ctr}`;
    const waiting = this.#pending.get(key);
    if (waiting) {
      this.#pending.delete(key);
      if (!equal(waiting.hash, hash)) throw this.#altered(kid, ctr);
      return;
    }
    let signed = this.#signed.get(kid);
    if (!signed) this.#signed.set(kid, (signed = new Map()));
    signed.set(ctr, hash.slice());
    if (signed.size > SIGNED_KEPT) signed.delete(signed.keys().next().value);
  }

  /**
   * A unit that decrypted (so its KID and counter are authentic): refuse a replay, and
   * check its hash against the checkpoints now or within {@link UNCONFIRMED_MS}.
   * @param {number} kid
   * @param {number} ctr
   * @param {Uint8Array} hash {@link unitHash} of the unit as it arrived
   * @throws {VerificationError} 'replay' or 'altered'
   */
  noteUnit(kid, ctr, hash) {
    this.#checkCounter(kid, ctr);
    this.#lastUnitAt = this.#now();
    const signed = this.#signed.get(kid)?.get(ctr);
    if (signed) {
      this.#signed.get(kid).delete(ctr);
      if (!equal(signed, hash)) throw this.#altered(kid, ctr);
      return;
    }
    this.#pending.set(`${kid}:${ctr}`, { kid, ctr, hash, at: this.#now() });
  }

  #checkCounter(kid, ctr) {
    let window = this.#windows.get(kid);
    if (!window) this.#windows.set(kid, (window = { highest: ctr, seen: new Set() }));
    if (window.seen.has(ctr) || ctr <= window.highest - REPLAY_WINDOW) {
      throw new VerificationError('replay', `replayed ${unitWord(kid)} (${unitWord(kid)} ${ctr} came again)`);
    }
    window.seen.add(ctr);
    if (ctr > window.highest) window.highest = ctr;
    if (window.seen.size > 2 * REPLAY_WINDOW) {
      for (const old of window.seen) if (old <= window.highest - REPLAY_WINDOW) window.seen.delete(old);
    }
  }

  /**
   * Call every few hundred ms: while units keep coming, a unit no checkpoint named within
   * {@link UNCONFIRMED_MS} was not made by the camera, or the camera's signatures stopped
   * coming. (When units stop too, the camera is lost: its last units wait for the
   * checkpoint it sends when it comes back.)
   * @throws {VerificationError} 'silent' or 'unsigned'
   */
  check() {
    const oldest = this.#pending.values().next().value;
    const now = this.#now();
    if (!oldest || now - oldest.at <= UNCONFIRMED_MS || now - this.#lastUnitAt > QUIET_MS) return;
    const since = this.#lastCheckpointAt;
    if (since === null || since <= oldest.at) {
      throw new VerificationError('silent', `no signature for ${((now - (since ?? oldest.at)) / 1000).toFixed(1)} s`);
    }
    throw new VerificationError(
      'unsigned',
      `${unitWord(oldest.kid)} ${oldest.ctr} was not signed by camera ${this.serial}`,
    );
  }

  /**
   * A position's time against the clock-checked now (and the camera's clock offset).
   * @param {number} t the position's time (camera clock, ms)
   * @throws {VerificationError} 'stale'
   */
  checkPosition(t) {
    const serverNow = this.#now() - this.#offsetMs;
    const bound = POSITION_STALE_MS + (this.#cameraOffset === null ? this.#toleranceMs : 0);
    if (!Number.isFinite(t) || serverNow + (this.#cameraOffset ?? 0) - t > bound) {
      throw new VerificationError('stale', `position from ${clockTime(t)} is stale`);
    }
  }

  #altered(kid, ctr) {
    return new VerificationError('altered', `${unitWord(kid)} ${ctr} is not the one camera ${this.serial} signed`);
  }
}

/**
 * Split a token `TYPE.b64u(payload).b64u(signature)` without checking its signature.
 * @param {unknown} token
 * @param {string} type
 * @param {string} what for messages
 */
function readToken(token, type, what) {
  const parts = String(token ?? '').split('.');
  if (parts.length !== 3) throw new VerificationError('manifest', `a malformed ${what}`);
  if (parts[0] !== type) throw new VerificationError('manifest', `a ${parts[0]} token where a ${what} was expected`);
  let payload, data;
  try {
    payload = b64uDecode(parts[1]);
    data = JSON.parse(decoder.decode(payload));
  } catch {
    data = null;
  }
  if (data === null || typeof data !== 'object') throw new VerificationError('manifest', `a malformed ${what}`);
  return { payload, data, signed: encoder.encode(`${parts[0]}.${parts[1]}`), signature: parts[2] };
}

/**
 * @param {CryptoKey} key
 * @param {{signed: Uint8Array, signature: string}} token
 */
async function signedBy(key, { signed, signature }) {
  try {
    return await subtle.verify('Ed25519', key, b64uDecode(signature), signed);
  } catch {
    return false;
  }
}

/** @param {Uint8Array} raw a 32-byte Ed25519 public key */
function ed25519(raw) {
  return subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
}

/** @param {BufferSource} data */
async function sha256(data) {
  return new Uint8Array(await subtle.digest('SHA-256', data));
}

/** JSON as Python's `json.dumps(sort_keys=True, separators=(',', ':'), ensure_ascii=True)`. */
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((key) => `${canonicalJson(key)}:${canonicalJson(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** @param {Uint8Array} a @param {Uint8Array} b */
function equal(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** @param {number} kid */
function unitWord(kid) {
  return UNIT_WORDS[kid & 0x3] ?? 'message';
}

/** @param {number} ms */
function clockTime(ms) {
  return Number.isFinite(ms) ? new Date(ms).toLocaleTimeString() : 'an unknown time';
}
