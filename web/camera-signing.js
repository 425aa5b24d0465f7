/**
 * What a phone camera seals and signs (PROTOCOL §2, §5), in WebCrypto: the stream's key
 * envelope (sealed to the system's public key), the WHIP proof, the stream manifest and
 * the checkpoint chain, each byte for byte what the camera agent makes
 * (crypto/content_key.py, crypto/signing.py, crypto/chain.py). The device key is an
 * Ed25519 CryptoKey that never leaves the browser (camera-store.js).
 */
import { b64uDecode, b64uEncode } from './e2ee.js';
import { canonicalJson, envelopeDigest } from './stream-verifier.js';

const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();
const CERTIFICATE = 'bwlive-cert-v2';
const MANIFEST = 'bwlive-manifest-v1';
const CHECKPOINT = 'bwlive-checkpoint-v1';
const WHIP_PROOF = 'bwlive-whip-proof-v1';
const WRAP_INFO = encoder.encode('bwlive content key v2');
const HASH_BYTES = 16;
export const SUITE = 5;

/**
 * Seal a fresh stream secret to the system's public key: envelope v2 (PROTOCOL §2).
 * @param {string} publicKeyPem the system public key (SPKI PEM, from the dock package)
 * @param {Uint8Array} secret 32 bytes
 * @returns {Promise<object>} the envelope, as `KeyEnvelope.to_json()` orders it
 */
export async function sealStreamSecret(publicKeyPem, secret) {
  const spki = pemBody(publicKeyPem);
  const systemKey = await subtle.importKey('spki', spki, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const ephemeral = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const shared = await subtle.deriveBits({ name: 'ECDH', public: systemKey }, ephemeral.privateKey, 256);
  const epk = new Uint8Array(await subtle.exportKey('raw', ephemeral.publicKey));
  const ikm = await subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  const wrapKey = await subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: epk, info: WRAP_INFO }, ikm,
    { name: 'AES-GCM', length: 256 }, false, ['encrypt']);
  const kid = hex((await sha256(spki)).subarray(0, 16));
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const aad = new Uint8Array([...encoder.encode(kid), SUITE >> 8, SUITE & 0xff]);
  const ct = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad }, wrapKey, secret));
  return { v: 2, suite: SUITE, kid, epk: b64uEncode(epk), iv: b64uEncode(iv), ct: b64uEncode(ct) };
}

/**
 * The envelope as the `Bwlive-Content-Key` header: b64u of its compact JSON.
 * @param {object} envelope
 */
export function envelopeHeader(envelope) {
  return b64uEncode(encoder.encode(JSON.stringify(envelope)));
}

/**
 * A token `TYPE.b64u(canonical JSON).b64u(Ed25519 signature)` (PROTOCOL §5).
 * @param {CryptoKey} deviceKey
 * @param {string} type
 * @param {object} payload
 */
export async function signToken(deviceKey, type, payload) {
  const signed = `${type}.${b64uEncode(encoder.encode(canonicalJson(payload)))}`;
  return `${signed}.${b64uEncode(await sign(deviceKey, encoder.encode(signed)))}`;
}

/**
 * The `Bwlive-Proof` of one publish (PROTOCOL §5.2).
 * @param {CryptoKey} deviceKey
 * @param {string} offer the SDP exactly as sent
 * @param {string} header the `Bwlive-Content-Key` value
 * @param {number} cameraTimeMs
 */
export async function whipProof(deviceKey, offer, header, cameraTimeMs) {
  const time = new Uint8Array(8);
  new DataView(time.buffer).setBigUint64(0, BigInt(cameraTimeMs));
  const message = await joined(encoder.encode(WHIP_PROOF), new Uint8Array([0]), await sha256(encoder.encode(offer)),
    await sha256(encoder.encode(header)), time);
  return b64uEncode(await sign(deviceKey, message));
}

/**
 * The stream manifest (PROTOCOL §5.3) and its payload bytes (the chain's first link).
 * @param {CryptoKey} deviceKey
 * @param {string} certificate the credential token from the dock package
 * @param {object} envelope
 * @param {number} startedAt ms, this phone's clock
 * @returns {Promise<{token: string, payload: Uint8Array}>}
 */
export async function signManifest(deviceKey, certificate, envelope, startedAt) {
  const [type, body] = certificate.split('.');
  if (type !== CERTIFICATE) throw new Error('the dock package holds no certificate');
  const issued = JSON.parse(new TextDecoder().decode(b64uDecode(body)));
  const manifest = {
    stream_nonce: b64uEncode(globalThis.crypto.getRandomValues(new Uint8Array(16))),
    serial: String(issued.serial), camera_user: String(issued.camera_user),
    organisation_id: String(issued.organisation_id), started_at: startedAt,
    envelope: await envelopeDigest(envelope), suite: SUITE, certificate,
  };
  const token = await signToken(deviceKey, MANIFEST, manifest);
  return { token, payload: b64uDecode(token.split('.')[1]) };
}

/** The camera's side of the checkpoint chain (PROTOCOL §5.4, crypto/chain.py `ChainWriter`). */
export class ChainWriter {
  #key;
  /** @type {Uint8Array} */
  #prev;
  #seq = 0;
  /** @type {Promise<unknown>} the previous checkpoint's signing: each links to the one before */
  #signed = Promise.resolve();
  /** @type {{kid: number, first: number, hashes: Uint8Array[]}[]} */
  #runs = [];
  /** @type {Map<number, number>} KID -> index of its current run */
  #last = new Map();

  /**
   * @param {CryptoKey} deviceKey
   * @param {Uint8Array} prev SHA-256 of the manifest's payload ({@link ChainWriter.start})
   */
  constructor(deviceKey, prev) {
    this.#key = deviceKey;
    this.#prev = prev;
  }

  /** @param {CryptoKey} deviceKey @param {Uint8Array} manifestPayload */
  static async start(deviceKey, manifestPayload) {
    return new ChainWriter(deviceKey, await sha256(manifestPayload));
  }

  /**
   * Note one sealed unit by its KID, counter and hash (16 bytes of SHA-256).
   * @param {number} kid @param {number} counter @param {Uint8Array} hash
   */
  add(kid, counter, hash) {
    const run = this.#runs[this.#last.get(kid) ?? -1];
    if (run && run.first + run.hashes.length === counter) {
      run.hashes.push(hash.subarray(0, HASH_BYTES));
      return;
    }
    this.#last.set(kid, this.#runs.length);
    this.#runs.push({ kid, first: counter, hashes: [hash.subarray(0, HASH_BYTES)] });
  }

  /**
   * The next checkpoint token, covering every unit added since the last one.
   * @param {number} nowMs this phone's clock
   */
  async checkpoint(nowMs) {
    // taken at once, so units added while this one is signed go into the next
    const runs = this.#runs;
    const seq = this.#seq++;
    this.#runs = [];
    this.#last.clear();
    const signed = this.#signed.then(async () => {
      const frames = await Promise.all(runs.map(async ({ kid, first, hashes }) =>
        ({ kid, first, hashes: b64uEncode(await joined(...hashes)) })));
      const token = await signToken(this.#key, CHECKPOINT, { seq, t: nowMs, prev: b64uEncode(this.#prev), frames });
      this.#prev = await sha256(b64uDecode(token.split('.')[1]));
      return token;
    });
    this.#signed = signed.catch(() => {});
    return signed;
  }
}

/** @param {CryptoKey} key @param {Uint8Array} data */
async function sign(key, data) {
  return new Uint8Array(await subtle.sign({ name: 'Ed25519' }, key, data));
}

/** @param {string} pem */
function pemBody(pem) {
  return Uint8Array.from(atob(pem.replace(/-----[^-]+-----|\s/g, '')), (c) => c.charCodeAt(0));
}

/** @param {BufferSource} data */
async function sha256(data) {
  return new Uint8Array(await subtle.digest('SHA-256', data));
}

/** @param {...Uint8Array} parts @returns {Promise<Uint8Array>} the parts in one buffer */
async function joined(...parts) {
  return new Uint8Array(await new Blob(parts).arrayBuffer());
}

/** @param {Uint8Array} bytes */
function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
