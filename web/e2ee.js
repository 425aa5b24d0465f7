/**
 * bwlive end-to-end encryption in WebCrypto (docs/PROTOCOL.md §1–3): the link key,
 * the per-stream content-key envelope and SFrame frame encryption.
 *
 * A plain ES module with no DOM use, so pages and workers share it. Every key it hands
 * out is a non-extractable CryptoKey (structured-cloneable into a worker).
 */

/** Frame kinds and the low two bits of their SFrame KID (PROTOCOL §3). */
export const KINDS = Object.freeze({ video: 0, audio: 1, camera_data: 2, operator_data: 3 });

const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();
const ECDH_P256 = { name: 'ECDH', namedCurve: 'P-256' };
const WRAP_INFO = encoder.encode('bwlive content key v1');
const CIPHER_SUITE = 0x0004; // AES_128_GCM_SHA256_128
const SFRAME_KEY_LABEL = 'SFrame 1.0 Secret key ';
const SFRAME_SALT_LABEL = 'SFrame 1.0 Secret salt ';
const MAX_U64 = (1n << 64n) - 1n;
const MAX_CACHED_KIDS = 16;

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
  const publicKey = await subtle.importKey('jwk', { kty, crv, x, y }, ECDH_P256, true, []);
  const spki = await subtle.exportKey('spki', publicKey);
  const digest = new Uint8Array(await subtle.digest('SHA-256', spki));
  const keyId = toHex(digest.subarray(0, 16));
  const privateKey = await subtle.importKey('jwk', jwk, ECDH_P256, false, ['deriveBits']);
  return { keyId, thumbprint: thumbprintOf(keyId), privateKey };
}

// ---------------------------------------------------------------- content key (§2)

/**
 * Open a stream's content-key envelope with the system private key.
 *
 * @param {string | {v: number, kid: string, epk: string, iv: string, ct: string}} envelope
 *   the envelope object or its JSON text (the caller picks the key whose id is `kid`)
 * @param {CryptoKey} privateKey the system private key (ECDH P-256, deriveBits)
 * @returns {Promise<CryptoKey>} the content key: non-extractable HKDF base key for SFrame
 * @throws {DecryptError} when the envelope is malformed or sealed to another key
 */
export async function unwrapContentKey(envelope, privateKey) {
  const { kid, epk, iv, ct } = parseEnvelope(envelope);
  let ephemeral;
  try {
    ephemeral = await subtle.importKey('raw', epk, ECDH_P256, false, []);
  } catch {
    throw new DecryptError('malformed key envelope: bad ephemeral public key');
  }
  const secret = await subtle.deriveBits({ name: 'ECDH', public: ephemeral }, privateKey, 256);
  const ikm = await subtle.importKey('raw', secret, 'HKDF', false, ['deriveKey']);
  const wrapKey = await subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: epk, info: WRAP_INFO },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    ['decrypt'],
  );
  let raw;
  try {
    raw = await subtle.decrypt(
      { name: 'AES-GCM', iv, additionalData: encoder.encode(kid) },
      wrapKey,
      ct,
    );
  } catch {
    throw new DecryptError(`the content key envelope cannot be opened with this key (kid ${kid})`);
  }
  try {
    return await subtle.importKey('raw', raw, 'HKDF', false, ['deriveBits', 'deriveKey']);
  } finally {
    new Uint8Array(raw).fill(0);
  }
}

/**
 * Validate and decode an envelope (PROTOCOL §2).
 * @param {string | object} envelope
 * @returns {{kid: string, epk: Uint8Array, iv: Uint8Array, ct: Uint8Array}}
 */
function parseEnvelope(envelope) {
  try {
    const data = typeof envelope === 'string' ? JSON.parse(envelope) : envelope;
    if (data?.v !== 1) throw new Error('unsupported version');
    if (typeof data.kid !== 'string') throw new Error('no kid');
    return {
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
 * Encrypts and decrypts SFrame frames under one content key (the SFrame base key).
 * Per-KID AEAD keys and salts are derived on first use and cached.
 */
export class FrameCipher {
  /** @type {CryptoKey} */
  #baseKey;
  /** @type {Map<bigint, Promise<{key: CryptoKey, salt: Uint8Array}>>} */
  #perKid = new Map();

  /** @param {CryptoKey} contentKey from {@link unwrapContentKey} (or any HKDF key) */
  constructor(contentKey) {
    this.#baseKey = contentKey;
  }

  /**
   * Encrypt one frame as `clear || header || AES-GCM(rest, aad = clear || header)`.
   * @param {'video'|'audio'|'camera_data'|'operator_data'} kind
   * @param {BufferSource} frame the plain frame
   * @param {bigint | number | string} counter the SFrame CTR (never reuse one per kind)
   * @returns {Promise<Uint8Array>}
   */
  async encryptFrame(kind, frame, counter) {
    const data = asBytes(frame);
    const clearLength = clearPrefixLength(kind, data[0]);
    if (data.length < clearLength) throw new RangeError(`${kind} frame shorter than its codec header`);
    const kid = BigInt(kindNumber(kind)); // epoch 0
    const ctr = BigInt(counter);
    const header = encodeHeader(kid, ctr);
    const aad = concat(data.subarray(0, clearLength), header);
    const { key, salt } = await this.#kidCipher(kid);
    const sealed = await subtle.encrypt(
      { name: 'AES-GCM', iv: nonce(salt, ctr), additionalData: aad },
      key,
      data.subarray(clearLength),
    );
    return concat(aad, new Uint8Array(sealed));
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
    const aadLength = clearLength + length;
    const { key, salt } = await this.#kidCipher(kid);
    let body;
    try {
      body = await subtle.decrypt(
        { name: 'AES-GCM', iv: nonce(salt, ctr), additionalData: data.subarray(0, aadLength) },
        key,
        data.subarray(aadLength),
      );
    } catch {
      throw new DecryptError('frame authentication failed (wrong key or altered frame)');
    }
    const plain = new Uint8Array(clearLength + body.byteLength);
    plain.set(data.subarray(0, clearLength));
    plain.set(new Uint8Array(body), clearLength);
    return plain;
  }

  /**
   * The AEAD key and salt of one KID (RFC 9605 §4.4.2), derived once.
   * @param {bigint} kid
   */
  #kidCipher(kid) {
    let entry = this.#perKid.get(kid);
    if (!entry) {
      if (this.#perKid.size >= MAX_CACHED_KIDS) this.#perKid.clear();
      entry = deriveKidCipher(this.#baseKey, kid);
      this.#perKid.set(kid, entry);
    }
    return entry;
  }
}

/**
 * @param {CryptoKey} baseKey
 * @param {bigint} kid
 * @returns {Promise<{key: CryptoKey, salt: Uint8Array}>}
 */
async function deriveKidCipher(baseKey, kid) {
  const suffix = new Uint8Array(10);
  const view = new DataView(suffix.buffer);
  view.setBigUint64(0, kid);
  view.setUint16(8, CIPHER_SUITE);
  const hkdf = (label) => ({
    name: 'HKDF',
    hash: 'SHA-256',
    salt: new Uint8Array(0),
    info: concat(encoder.encode(label), suffix),
  });
  const key = await subtle.deriveKey(
    hkdf(SFRAME_KEY_LABEL),
    baseKey,
    { name: 'AES-GCM', length: 128 },
    false,
    ['encrypt', 'decrypt'],
  );
  const salt = new Uint8Array(await subtle.deriveBits(hkdf(SFRAME_SALT_LABEL), baseKey, 96));
  return { key, salt };
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

/** @param {Uint8Array} bytes */
function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
