/**
 * Making links with key on the admin page (docs/PROTOCOL.md §1): `#key=…&sig=…` and the
 * password-protected v2 `#pkey=` whose AES-GCM AAD is the system's raw signing public key,
 * so the signing key cannot be swapped without the passphrase. Reading links (v1 and v2)
 * is web/link-key.js's. No DOM use.
 */
import { b64uEncode, thumbprintOf } from './e2ee.js';
import { ITERATIONS, MIN_PASSPHRASE, keyLink } from './link-key.js';

const KDF = 'PBKDF2-SHA256';
const SIGNING_FRAGMENT = 'sig';
const subtle = globalThis.crypto.subtle;

/**
 * @param {string} base the web client's address
 * @param {Uint8Array} pkcs8 the system's private key
 * @param {Uint8Array} signingKey the system's raw 32-byte Ed25519 public key
 */
export function signedKeyLink(base, pkcs8, signingKey) {
  return `${keyLink(base, pkcs8)}&${SIGNING_FRAGMENT}=${b64uEncode(signingKey)}`;
}

/**
 * Seal a PKCS#8 private key under a passphrase, bound to the signing key (salt and IV
 * random unless given).
 * @param {Uint8Array} pkcs8
 * @param {string} passphrase
 * @param {Uint8Array} signingKey raw 32-byte Ed25519 public key: the AAD
 * @param {{iterations?: number, salt?: Uint8Array, iv?: Uint8Array}} [options]
 * @returns {Promise<{v: 2, kdf: string, iter: number, salt: string, iv: string, ct: string, sig: string}>}
 */
export async function sealSigned(pkcs8, passphrase, signingKey, options = {}) {
  if (passphrase.length < MIN_PASSPHRASE) {
    throw new Error(`the passphrase must have at least ${MIN_PASSPHRASE} characters`);
  }
  const iter = options.iterations ?? ITERATIONS;
  const salt = options.salt ?? crypto.getRandomValues(new Uint8Array(16));
  const iv = options.iv ?? crypto.getRandomValues(new Uint8Array(12));
  const material = await subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  const key = await subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: iter }, material,
    { name: 'AES-GCM', length: 256 }, false, ['encrypt']);
  const ct = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv, additionalData: signingKey }, key, pkcs8));
  return { v: 2, kdf: KDF, iter, salt: b64uEncode(salt), iv: b64uEncode(iv), ct: b64uEncode(ct), sig: b64uEncode(signingKey) };
}

/**
 * The signing key's thumbprint, computed here from the bytes that go into the link (not
 * taken from the server's word): SHA-256 of the raw key, first 16 bytes, grouped by four.
 * @param {Uint8Array} signingKey
 */
export async function signingThumbprint(signingKey) {
  const digest = new Uint8Array(await subtle.digest('SHA-256', signingKey)).slice(0, 16);
  return thumbprintOf(Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join(''));
}
