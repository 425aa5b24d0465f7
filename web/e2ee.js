/**
 * bwlive end-to-end encryption in WebCrypto (docs/PROTOCOL.md §1–3): the link key,
 * the per-stream key envelope, SFrame (RFC 9605, suites 4 and 5) and bwlive's frames.
 *
 * A plain ES module with no DOM use, so pages and workers share it. Every key it hands
 * out is a non-extractable CryptoKey, and a stream key is a plain object holding one
 * (structured-cloneable into a worker).
 */

/** Frame kinds and the low two bits of their SFrame KID (PROTOCOL §3). */
export const KINDS = Object.freeze({ video: 0, audio: 1, camera_data: 2, operator_data: 3 });

const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();
const ECDH_P256 = { name: 'ECDH', namedCurve: 'P-256' };
const WRAP_INFO = { 1: encoder.encode('bwlive content key v1'), 2: encoder.encode('bwlive content key v2') };
/** RFC 9605 §4.5: the AES-GCM cipher suites, by id (suites 1–3 are not supported). */
export const SUITES = Object.freeze({
  4: Object.freeze({ id: 4, name: 'AES_128_GCM_SHA256_128', hash: 'SHA-256', keyBytes: 16 }),
  5: Object.freeze({ id: 5, name: 'AES_256_GCM_SHA512_128', hash: 'SHA-512', keyBytes: 32 }),
});
const SFRAME_KEY_LABEL = 'SFrame 1.0 Secret key ';
const SFRAME_SALT_LABEL = 'SFrame 1.0 Secret salt ';
/** Each sender's base key label (PROTOCOL §3); a browser's is followed by u64be(KID). */
const BASE_KEY_LABELS = Object.freeze({
  video: 'bwlive 2 base key camera media',
  audio: 'bwlive 2 base key camera media',
  camera_data: 'bwlive 2 base key camera data',
  operator_data: 'bwlive 2 base key viewer ',
});
const STREAM_SECRET_BYTES = { 1: 16, 2: 32 };
const MAX_U64 = (1n << 64n) - 1n;
const MAX_CACHED_KIDS = 16;
const SENDER_ID_BITS = 62n;

/** A frame or envelope that is not ours, was altered, or needs another key. */
export class DecryptError extends Error {
  name = 'DecryptError';
}

// ---------------------------------------------------------------- base64url

/**
 * Unpadded base64url of some bytes.
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function b64uEncode(bytes) {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Bytes of an (unpadded or padded) base64url text.
 * @param {string} text
 * @returns {Uint8Array}
 * @throws {SyntaxError} when the text is not base64url
 */
export function b64uDecode(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*={0,2}$/.test(text)) {
    throw new SyntaxError('not base64url text');
  }
  const b64 = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

// ---------------------------------------------------------------- system key (§1)

/**
 * The human form of a key id: upper case in groups of four ("3FE2 9004 …").
 * @param {string} keyId 32 lowercase hex characters
 * @returns {string}
 */
export function thumbprintOf(keyId) {
  return keyId.toUpperCase().match(/.{1,4}/g).join(' ');
}

/**
 * Import the system private key from a link with key.
 *
 * The key is imported extractable once, only to rebuild its public half (for the key
 * id), and then re-imported non-extractable: the returned CryptoKey can never be read
 * back, not even by this page.
 *
 * @param {BufferSource} pkcs8 PKCS#8 DER of an ECDH P-256 private key
 * @returns {Promise<{keyId: string, thumbprint: string, privateKey: CryptoKey}>}
 * @throws {Error} when the bytes are not a P-256 private key
 */
export async function importLinkKey(pkcs8) {
  let jwk;
  try {
    const once = await subtle.importKey('pkcs8', pkcs8, ECDH_P256, true, ['deriveBits']);
    jwk = await subtle.exportKey('jwk', once);
  } catch {
    throw new Error('the key in the link is not a P-256 private key');
  }
  const { kty, crv, x, y } = jwk;
  const keyId = await keyIdOf(await subtle.importKey('jwk', { kty, crv, x, y }, ECDH_P256, true, []));
  const privateKey = await subtle.importKey('jwk', jwk, ECDH_P256, false, ['deriveBits']);
  return { keyId, thumbprint: thumbprintOf(keyId), privateKey };
}

/**
 * A system key's id (PROTOCOL §1): the first 16 bytes of SHA-256 over its public key's
 * SubjectPublicKeyInfo, in hex.
 * @param {CryptoKey} publicKey an extractable ECDH P-256 public key
 * @returns {Promise<string>}
 */
export async function keyIdOf(publicKey) {
  const spki = await subtle.exportKey('spki', publicKey);
  const digest = new Uint8Array(await subtle.digest('SHA-256', spki));
  return toHex(digest.subarray(0, 16));
}

// ---------------------------------------------------------------- stream key (§2)

/**
 * A stream's key: its envelope's version, its SFrame cipher suite and its secret
 * (v2: the 32-byte stream secret each sender's base key is derived from; v1, streams
 * and recordings from before v2: the 16-byte content key, every KID's base key).
 * @typedef {{version: 1|2, suite: 4|5, secret: CryptoKey}} StreamKey
 */

/**
 * Open a stream's key envelope with the system private key.
 *
 * @param {string | {v: number, suite?: number, kid: string, epk: string, iv: string, ct: string}} envelope
 *   the envelope object or its JSON text (the caller picks the key whose id is `kid`)
 * @param {CryptoKey} privateKey the system private key (ECDH P-256, deriveBits)
 * @returns {Promise<StreamKey>}
 * @throws {DecryptError} when the envelope is malformed or sealed to another key
 */
export async function unwrapContentKey(envelope, privateKey) {
  const { version, suite, kid, epk, iv, ct } = parseEnvelope(envelope);
  let ephemeral;
  try {
    ephemeral = await subtle.importKey('raw', epk, ECDH_P256, false, []);
  } catch {
    throw new DecryptError('malformed key envelope: bad ephemeral public key');
  }
  const secret = await subtle.deriveBits({ name: 'ECDH', public: ephemeral }, privateKey, 256);
  const ikm = await subtle.importKey('raw', secret, 'HKDF', false, ['deriveKey']);
  const wrapKey = await subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: epk, info: WRAP_INFO[version] },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    ['decrypt'],
  );
  // v1: ASCII(key id); v2: ASCII(key id) || u16be(suite), so the suite cannot be changed
  const aad = concat(encoder.encode(kid), version === 2 ? Uint8Array.of(suite >> 8, suite & 0xff) : new Uint8Array(0));
  let raw;
  try {
    raw = await subtle.decrypt({ name: 'AES-GCM', iv, additionalData: aad }, wrapKey, ct);
  } catch {
    throw new DecryptError(`the content key envelope cannot be opened with this key (kid ${kid})`);
  }
  try {
    if (raw.byteLength !== STREAM_SECRET_BYTES[version]) {
      throw new DecryptError(`the envelope holds a key of ${raw.byteLength} bytes`);
    }
    return await importStreamKey(raw, { version, suite });
  } finally {
    new Uint8Array(raw).fill(0);
  }
}

/**
 * A stream key from its raw secret (non-extractable from then on).
 * @param {BufferSource} raw
 * @param {{version?: 1|2, suite?: 4|5}} [format] v2 and suite 5 unless told
 * @returns {Promise<StreamKey>}
 */
export async function importStreamKey(raw, { version = 2, suite = 5 } = {}) {
  const secret = await subtle.importKey('raw', raw, 'HKDF', false, ['deriveBits', 'deriveKey']);
  return Object.freeze({ version, suite, secret });
}

/**
 * Validate and decode an envelope (PROTOCOL §2).
 * @param {string | object} envelope
 * @returns {{version: 1|2, suite: 4|5, kid: string, epk: Uint8Array, iv: Uint8Array, ct: Uint8Array}}
 */
function parseEnvelope(envelope) {
  try {
    const data = typeof envelope === 'string' ? JSON.parse(envelope) : envelope;
    if (data?.v !== 1 && data?.v !== 2) throw new Error('unsupported version');
    const suite = data.v === 1 ? 4 : data.suite;
    if (!Object.hasOwn(SUITES, String(suite)) || typeof suite !== 'number') {
      throw new Error(`unsupported SFrame cipher suite ${JSON.stringify(suite)}`);
    }
    if (typeof data.kid !== 'string') throw new Error('no kid');
    return {
      version: data.v,
      suite,
      kid: data.kid,
      epk: b64uDecode(data.epk),
      iv: b64uDecode(data.iv),
      ct: b64uDecode(data.ct),
    };
  } catch (error) {
    throw new DecryptError(`malformed key envelope: ${error.message}`);
  }
}

// ---------------------------------------------------------------- SFrame (§3)

/**
 * Bytes a frame keeps in clear, decided by its first byte alone.
 * @param {'video'|'audio'|'camera_data'|'operator_data'} kind
 * @param {number | undefined} firstByte undefined for an empty frame
 * @returns {number} VP8 key frame 10, VP8 delta frame 3, Opus 1, data 0
 * @throws {RangeError} for an empty video frame
 */
export function clearPrefixLength(kind, firstByte) {
  switch (kindNumber(kind)) {
    case KINDS.video:
      if (firstByte === undefined) throw new RangeError('empty video frame');
      return (firstByte & 0x01) === 0 ? 10 : 3;
    case KINDS.audio:
      return 1;
    default:
      return 0;
  }
}

/**
 * The SFrame header (RFC 9605 §4.3) for a KID and counter.
 * @param {bigint | number} kid
 * @param {bigint | number | string} ctr
 * @returns {Uint8Array}
 */
export function encodeHeader(kid, ctr) {
  const [kBits, kExt] = encodeField(BigInt(kid));
  const [cBits, cExt] = encodeField(BigInt(ctr));
  const header = new Uint8Array(1 + kExt.length + cExt.length);
  header[0] = (kBits << 4) | cBits;
  header.set(kExt, 1);
  header.set(cExt, 1 + kExt.length);
  return header;
}

/**
 * Parse the SFrame header that starts at `offset`.
 * @param {Uint8Array} bytes
 * @param {number} [offset=0]
 * @returns {{kid: bigint, ctr: bigint, length: number}} length counts the config byte
 * @throws {DecryptError} when the frame ends inside the header
 */
export function decodeHeader(bytes, offset = 0) {
  if (offset >= bytes.length) throw new DecryptError('frame too short for an SFrame header');
  const config = bytes[offset];
  let pos = offset + 1;
  const values = [];
  for (const bits of [config >> 4, config & 0x0f]) {
    if (bits & 0x8) {
      const n = (bits & 0x7) + 1;
      if (pos + n > bytes.length) throw new DecryptError('frame too short for its SFrame header');
      let value = 0n;
      for (let i = 0; i < n; i++) value = (value << 8n) | BigInt(bytes[pos + i]);
      values.push(value);
      pos += n;
    } else {
      values.push(BigInt(bits));
    }
  }
  return { kid: values[0], ctr: values[1], length: pos - offset };
}

/**
 * One of the two header fields: 4 bits for the config byte and its extension bytes.
 * @param {bigint} value
 * @returns {[number, Uint8Array]}
 */
function encodeField(value) {
  if (value < 0n || value > MAX_U64) throw new RangeError('SFrame KID/CTR must fit in 64 bits');
  if (value < 8n) return [Number(value), new Uint8Array(0)];
  const bytes = [];
  for (let v = value; v > 0n; v >>= 8n) bytes.unshift(Number(v & 0xffn));
  return [0x8 | (bytes.length - 1), Uint8Array.from(bytes)];
}

/**
 * The AEAD key and salt of one KID (RFC 9605 §4.4.2), from its sender's base key:
 * `HKDF-Expand(HKDF-Extract("", base key), "SFrame 1.0 Secret key " || u64be(KID) || u16be(suite), Nk)`,
 * the salt likewise with "SFrame 1.0 Secret salt " and 12 bytes.
 * @param {4|5} suiteId
 * @param {CryptoKey} baseKey an HKDF key
 * @param {bigint} kid
 * @returns {Promise<KidKey>}
 * @typedef {{kid: bigint, key: CryptoKey, salt: Uint8Array}} KidKey
 */
export async function deriveKidKey(suiteId, baseKey, kid) {
  const suite = SUITES[suiteId];
  const suffix = new Uint8Array(10);
  const view = new DataView(suffix.buffer);
  view.setBigUint64(0, kid);
  view.setUint16(8, suite.id);
  const hkdf = (label) => ({
    name: 'HKDF',
    hash: suite.hash,
    salt: new Uint8Array(0),
    info: concat(encoder.encode(label), suffix),
  });
  const key = await subtle.deriveKey(
    hkdf(SFRAME_KEY_LABEL),
    baseKey,
    { name: 'AES-GCM', length: suite.keyBytes * 8 },
    false,
    ['encrypt', 'decrypt'],
  );
  const salt = new Uint8Array(await subtle.deriveBits(hkdf(SFRAME_SALT_LABEL), baseKey, 96));
  return { kid, key, salt };
}

/**
 * RFC 9605 §4.4.3: the SFrame ciphertext `header || ct` with `AAD = header || metadata`.
 * @param {KidKey} kidKey
 * @param {bigint} ctr
 * @param {Uint8Array} metadata
 * @param {Uint8Array} plaintext
 * @returns {Promise<Uint8Array>}
 */
export async function sframeEncrypt(kidKey, ctr, metadata, plaintext) {
  const header = encodeHeader(kidKey.kid, ctr);
  return concat(header, await aeadSeal(kidKey, ctr, concat(header, metadata), plaintext));
}

/**
 * RFC 9605 §4.4.4: open `header || ct` (its KID must be the key's).
 * @param {KidKey} kidKey
 * @param {Uint8Array} metadata
 * @param {Uint8Array} sframeCiphertext
 * @returns {Promise<Uint8Array>}
 * @throws {DecryptError}
 */
export async function sframeDecrypt(kidKey, metadata, sframeCiphertext) {
  const { kid, ctr, length } = decodeHeader(sframeCiphertext);
  if (kid !== kidKey.kid) throw new DecryptError(`the frame's KID ${kid} is not this key's ${kidKey.kid}`);
  const aad = concat(sframeCiphertext.subarray(0, length), metadata);
  return aeadOpen(kidKey, ctr, aad, sframeCiphertext.subarray(length));
}

/** @param {KidKey} kidKey @param {bigint} ctr @param {Uint8Array} aad @param {Uint8Array} plaintext */
async function aeadSeal({ key, salt }, ctr, aad, plaintext) {
  const iv = nonce(salt, ctr);
  return new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad }, key, plaintext));
}

/** @param {KidKey} kidKey @param {bigint} ctr @param {Uint8Array} aad @param {Uint8Array} ciphertext */
async function aeadOpen({ key, salt }, ctr, aad, ciphertext) {
  try {
    const iv = nonce(salt, ctr);
    return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv, additionalData: aad }, key, ciphertext));
  } catch {
    throw new DecryptError('frame authentication failed (wrong key or altered frame)');
  }
}

/**
 * nonce = salt XOR CTR, the counter left-padded to 12 bytes.
 * @param {Uint8Array} salt 12 bytes
 * @param {bigint} ctr
 */
function nonce(salt, ctr) {
  const iv = salt.slice();
  for (let i = 0; i < 8; i++) iv[11 - i] ^= Number((ctr >> BigInt(8 * i)) & 0xffn);
  return iv;
}

// ---------------------------------------------------------------- bwlive frames (§3)

/**
 * Encrypts and decrypts one stream's frames: `clear || SFrame ciphertext`, the clear
 * codec bytes being the SFrame metadata. Each sender's base key (camera media, camera
 * data, each browser) is derived from the stream key; each KID's AEAD key and salt are
 * derived on first use and cached.
 */
export class FrameCipher {
  /** @type {StreamKey} */
  #streamKey;
  /** @type {Map<bigint, Promise<KidKey>>} */
  #perKid = new Map();

  /** @param {StreamKey} streamKey from {@link unwrapContentKey} or {@link importStreamKey} */
  constructor(streamKey) {
    if (!Object.hasOwn(SUITES, String(streamKey?.suite))) throw new TypeError('not a stream key');
    this.#streamKey = streamKey;
  }

  /**
   * Encrypt one frame as `clear || header || AES-GCM(rest, aad = header || clear)`
   * (v1 stream keys: `aad = clear || header`).
   * @param {'video'|'audio'|'camera_data'|'operator_data'} kind
   * @param {BufferSource} frame the plain frame
   * @param {bigint | number | string} counter the SFrame CTR (never reuse one per sender)
   * @param {bigint | number} [sender=0n] the sender id: 0 for the camera's kinds, the page's for operator_data
   * @returns {Promise<Uint8Array>}
   */
  async encryptFrame(kind, frame, counter, sender = 0n) {
    const data = asBytes(frame);
    const clearLength = clearPrefixLength(kind, data[0]);
    if (data.length < clearLength) throw new RangeError(`${kind} frame shorter than its codec header`);
    const senderId = BigInt(sender);
    if (senderId !== 0n && kind !== 'operator_data') throw new RangeError('the camera is the only sender of its kinds');
    const kid = (senderId << 2n) | BigInt(kindNumber(kind));
    const ctr = BigInt(counter);
    const clear = data.subarray(0, clearLength);
    const kidKey = await this.#kidKey(kid);
    if (this.#streamKey.version === 1) {
      const aad = concat(clear, encodeHeader(kid, ctr));
      return concat(aad, await aeadSeal(kidKey, ctr, aad, data.subarray(clearLength)));
    }
    return concat(clear, await sframeEncrypt(kidKey, ctr, clear, data.subarray(clearLength)));
  }

  /**
   * Decrypt one frame of the given kind.
   * @param {'video'|'audio'|'camera_data'|'operator_data'} kind
   * @param {BufferSource} frame the encrypted frame
   * @returns {Promise<Uint8Array>} the plain frame, in a buffer of its own
   * @throws {DecryptError} when the frame is not of this kind, altered, or under another key
   */
  async decryptFrame(kind, frame) {
    const data = asBytes(frame);
    let clearLength;
    try {
      clearLength = clearPrefixLength(kind, data[0]);
    } catch (error) {
      throw new DecryptError(error.message);
    }
    const { kid, ctr, length } = decodeHeader(data, clearLength);
    if (Number(kid & 0x3n) !== kindNumber(kind)) {
      throw new DecryptError(`KID ${kid} does not belong to a ${kind} frame`);
    }
    const clear = data.subarray(0, clearLength);
    const kidKey = await this.#kidKey(kid);
    const body =
      this.#streamKey.version === 1
        ? await aeadOpen(kidKey, ctr, data.subarray(0, clearLength + length), data.subarray(clearLength + length))
        : await sframeDecrypt(kidKey, clear, data.subarray(clearLength));
    return concat(clear, body);
  }

  /**
   * The AEAD key and salt of one KID, derived once.
   * @param {bigint} kid
   */
  #kidKey(kid) {
    let entry = this.#perKid.get(kid);
    if (!entry) {
      if (this.#perKid.size >= MAX_CACHED_KIDS) this.#perKid.clear();
      entry = this.#baseKey(kid).then((baseKey) => deriveKidKey(this.#streamKey.suite, baseKey, kid));
      this.#perKid.set(kid, entry);
    }
    return entry;
  }

  /**
   * The base key of the sender of `kid`: `HKDF(suite hash, stream secret, label, Nk)`;
   * a v1 stream key is every KID's base key.
   * @param {bigint} kid
   * @returns {Promise<CryptoKey>}
   */
  async #baseKey(kid) {
    const { version, suite, secret } = this.#streamKey;
    if (version === 1) return secret;
    const kind = Object.keys(KINDS)[Number(kid & 0x3n)];
    let info = encoder.encode(BASE_KEY_LABELS[kind]);
    if (kind === 'operator_data') info = concat(info, u64(kid));
    const { hash, keyBytes } = SUITES[suite];
    const bits = await subtle.deriveBits({ name: 'HKDF', hash, salt: new Uint8Array(0), info }, secret, keyBytes * 8);
    try {
      return await subtle.importKey('raw', bits, 'HKDF', false, ['deriveBits', 'deriveKey']);
    } finally {
      new Uint8Array(bits).fill(0);
    }
  }
}

// ---------------------------------------------------------------- acknowledgements (§3)

/** This page's sender: a random id picked once per page load, its counter from 0. */
const pageSender = { id: randomSenderId(), counter: 0n };

/** @returns {bigint} SENDER_ID_BITS random bits */
function randomSenderId() {
  const [word] = globalThis.crypto.getRandomValues(new BigUint64Array(1));
  return word >> (64n - SENDER_ID_BITS);
}

/**
 * Seal an acknowledgement for the camera: `{type: 'acknowledge', t}` as an operator_data
 * frame under this page's sender id and next counter.
 * @param {FrameCipher} cipher the stream's
 * @param {number} pressedMs when the operator pressed (ms since 1970)
 * @returns {Promise<string>} base64url of the sealed frame
 */
export async function sealAcknowledgement(cipher, pressedMs) {
  const message = encoder.encode(JSON.stringify({ type: 'acknowledge', t: pressedMs }));
  const counter = pageSender.counter++;
  return b64uEncode(await cipher.encryptFrame('operator_data', message, counter, pageSender.id));
}

/** @param {string} kind */
function kindNumber(kind) {
  if (!Object.hasOwn(KINDS, kind)) throw new TypeError(`unknown frame kind ${kind}`);
  return KINDS[kind];
}

/** @param {BufferSource} source */
function asBytes(source) {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
}

/** @param {...Uint8Array} parts */
function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** @param {bigint} value @returns {Uint8Array} 8 bytes, big-endian */
function u64(value) {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value);
  return bytes;
}

/** @param {Uint8Array} bytes */
function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
