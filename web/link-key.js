/**
 * Links with key (docs/PROTOCOL.md §1): `#key=<b64u PKCS#8>&sig=<b64u raw Ed25519
 * public key>` and the password-protected `#pkey=<b64u JSON>`, whose private key is
 * sealed with AES-256-GCM under a key derived from a passphrase by PBKDF2-SHA-256 (v2:
 * the system signing key rides along in `sig`, authenticated as the AEAD's additional
 * data). The iteration count travels in the link, so it can be raised later. Links
 * without a signing key (v1, or `#key=` without `sig`) still open: their streams cannot
 * be verified. No DOM use.
 */
import { b64uDecode, b64uEncode } from './e2ee.js';

export const KEY_FRAGMENT = 'key';
export const PROTECTED_FRAGMENT = 'pkey';
export const SIGNING_FRAGMENT = 'sig';
const SIGNING_KEY_BYTES = 32;
export const ITERATIONS = 600000;
export const MIN_PASSPHRASE = 8;
const KDF = 'PBKDF2-SHA256';
const MIN_ITERATIONS = 100000;
const MAX_ITERATIONS = 50000000; // a link cannot make the browser spin for hours
const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();

/** The passphrase does not open this link. */
export class WrongPassphraseError extends Error {
  name = 'WrongPassphraseError';
}

/**
 * @typedef {{v: 1|2, kdf: string, iter: number, salt: string, iv: string, ct: string, sig?: string}} ProtectedKey
 */

/**
 * What a link's fragment carries: `{pkcs8, signingKey}`, `{protected, signingKey}` or
 * null (no key). `signingKey` is the b64u raw Ed25519 system signing key, or null when
 * the link has none (a protected link's is trusted only once its passphrase opened it).
 * @param {string} fragment the part after '#'
 * @returns {{pkcs8?: Uint8Array, protected?: ProtectedKey, signingKey: string | null} | null}
 * @throws {Error} when the fragment holds a damaged key
 */
export function parseFragment(fragment) {
  const params = new URLSearchParams(fragment);
  let carried = null;
  try {
    if (params.has(KEY_FRAGMENT)) {
      carried = { pkcs8: b64uDecode(params.get(KEY_FRAGMENT)), signingKey: params.get(SIGNING_FRAGMENT) };
    } else if (params.has(PROTECTED_FRAGMENT)) {
      const blob = JSON.parse(new TextDecoder().decode(b64uDecode(params.get(PROTECTED_FRAGMENT))));
      if (blob === null || typeof blob !== 'object') throw new SyntaxError('not an object');
      carried = { protected: blob, signingKey: blob.v === 2 ? blob.sig : null };
    }
  } catch {
    throw new Error('the key in the link is damaged (not base64url)');
  }
  if (carried?.signingKey != null) signingKeyBytes(carried.signingKey); // damaged: refused now
  return carried;
}

/**
 * The raw bytes of a b64u Ed25519 public key.
 * @param {string} signingKey
 * @returns {Uint8Array}
 * @throws {Error} when it is not 32 bytes of base64url
 */
export function signingKeyBytes(signingKey) {
  let raw;
  try {
    raw = b64uDecode(String(signingKey));
  } catch {
    raw = null;
  }
  if (raw?.length !== SIGNING_KEY_BYTES) throw new Error('the signing key in the link is damaged (not 32 bytes)');
  return raw;
}

/**
 * Open a password-protected key.
 * @param {ProtectedKey} blob
 * @param {string} passphrase
 * @returns {Promise<Uint8Array>} the PKCS#8 DER
 * @throws {WrongPassphraseError | Error}
 */
export async function decryptProtected(blob, passphrase) {
  if (![1, 2].includes(blob.v) || blob.kdf !== KDF) {
    throw new Error(`unsupported protected link (expected v 1 or 2 with ${KDF})`);
  }
  if (!Number.isInteger(blob.iter) || blob.iter < MIN_ITERATIONS || blob.iter > MAX_ITERATIONS) {
    throw new Error(`the link's iteration count must be between ${MIN_ITERATIONS} and ${MAX_ITERATIONS}`);
  }
  let salt, iv, ct;
  try {
    [salt, iv, ct] = [blob.salt, blob.iv, blob.ct].map(b64uDecode);
  } catch {
    throw new Error('the protected link is damaged (salt, iv or ct missing)');
  }
  const additionalData = blob.v === 2 ? signingKeyBytes(blob.sig) : new Uint8Array(0);
  const key = await derive(passphrase, salt, blob.iter);
  try {
    return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv, additionalData }, key, ct));
  } catch {
    throw new WrongPassphraseError('Wrong passphrase: the key in the link could not be decrypted.');
  }
}

/**
 * Seal a PKCS#8 private key under a passphrase (salt and IV random unless given); with a
 * signing key, a v2 blob that carries it, authenticated.
 * @param {Uint8Array} pkcs8
 * @param {string} passphrase
 * @param {{iterations?: number, salt?: Uint8Array, iv?: Uint8Array, signingKey?: string}} [options]
 * @returns {Promise<ProtectedKey>}
 */
export async function encryptProtected(pkcs8, passphrase, options = {}) {
  if (passphrase.length < MIN_PASSPHRASE) {
    throw new Error(`the passphrase must have at least ${MIN_PASSPHRASE} characters`);
  }
  const iter = options.iterations ?? ITERATIONS;
  const salt = options.salt ?? crypto.getRandomValues(new Uint8Array(16));
  const iv = options.iv ?? crypto.getRandomValues(new Uint8Array(12));
  const key = await derive(passphrase, salt, iter);
  const { signingKey } = options;
  const additionalData = signingKey ? signingKeyBytes(signingKey) : new Uint8Array(0);
  const ct = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv, additionalData }, key, pkcs8));
  const blob = { v: 1, kdf: KDF, iter, salt: b64uEncode(salt), iv: b64uEncode(iv), ct: b64uEncode(ct) };
  return signingKey ? { ...blob, v: 2, sig: signingKey } : blob;
}

/**
 * @param {string} base the web client's address
 * @param {Uint8Array} pkcs8
 * @param {string} [signingKey] b64u raw system signing key (without: streams cannot be verified)
 */
export function keyLink(base, pkcs8, signingKey) {
  const sig = signingKey ? `&${SIGNING_FRAGMENT}=${signingKey}` : '';
  return `${base.replace(/\/+$/, '')}/#${KEY_FRAGMENT}=${b64uEncode(pkcs8)}${sig}`;
}

/**
 * @param {string} base the web client's address
 * @param {ProtectedKey} blob
 */
export function protectedLink(base, blob) {
  return `${base.replace(/\/+$/, '')}/#${PROTECTED_FRAGMENT}=${b64uEncode(encoder.encode(JSON.stringify(blob)))}`;
}

/**
 * @param {string} passphrase
 * @param {Uint8Array} salt
 * @param {number} iterations
 */
async function derive(passphrase, salt, iterations) {
  const material = await subtle.importKey('raw', encoder.encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  return subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}
