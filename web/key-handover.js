/**
 * Keys handed over by a page's own code rather than by a link in the address bar: the
 * embedded player's `setKey()` and `BwlivePlayer.importKey()` (docs/EMBEDDING.md, "Key
 * hand-over"). A key comes as
 *
 * - `{privateKey, publicKey, signingKey?}`: from the page's own key store, the private
 *   key a CryptoKey (ECDH P-256, `deriveBits`; non-extractable is fine), the public key a
 *   CryptoKey or a JWK (for the key id);
 * - `{pkcs8, signingKey?}`: PKCS#8 DER bytes, imported non-extractable;
 * - `{link, passphrase?}`: a link with key (`#key=` or the password-protected `#pkey=`),
 *   as the administrator handed it out, with the passphrase the operator typed.
 *
 * `signingKey` is the system signing key (b64u raw Ed25519, PROTOCOL §5); without one,
 * streams play marked unverified. Nothing here sends a key anywhere.
 */
import { importLinkKey, keyIdOf, thumbprintOf } from './e2ee.js';
import { decryptProtected, parseFragment, signingKeyBytes } from './link-key.js';

const ECDH_P256 = { name: 'ECDH', namedCurve: 'P-256' };

/**
 * @typedef {{privateKey: CryptoKey, publicKey: CryptoKey | JsonWebKey, signingKey?: string | null}
 *   | {pkcs8: BufferSource, signingKey?: string | null} | {link: string, passphrase?: string}} HandedKey
 * @typedef {{keyId: string, thumbprint: string, privateKey: CryptoKey, signingKey: string | null}} HeldKey
 */

/**
 * @param {HandedKey} key
 * @returns {Promise<HeldKey>}
 * @throws {Error} with a sentence when the key cannot be used (a wrong passphrase:
 *   link-key.js's WrongPassphraseError)
 */
export async function heldKeyOf(key) {
  if (key === null || typeof key !== 'object') throw new TypeError('a key is an object: {privateKey, publicKey}, {pkcs8} or {link, passphrase}');
  if ('link' in key) return fromLink(String(key.link), key.passphrase);
  const signingKey = key.signingKey ?? null;
  if (signingKey !== null) signingKeyBytes(signingKey);
  if ('pkcs8' in key) return { ...(await importLinkKey(key.pkcs8)), signingKey };
  if (!(key.privateKey instanceof CryptoKey) || key.privateKey.type !== 'private' ||
      key.privateKey.algorithm.name !== 'ECDH' || key.privateKey.algorithm.namedCurve !== 'P-256' ||
      !key.privateKey.usages.includes('deriveBits')) {
    throw new TypeError('privateKey must be an ECDH P-256 private CryptoKey usable for deriveBits');
  }
  const publicKey = key.publicKey instanceof CryptoKey
    ? key.publicKey
    : await crypto.subtle.importKey('jwk', key.publicKey, ECDH_P256, true, []);
  const keyId = await keyIdOf(publicKey);
  return { keyId, thumbprint: thumbprintOf(keyId), privateKey: key.privateKey, signingKey };
}

/**
 * @param {string} link
 * @param {string | undefined} passphrase
 * @returns {Promise<HeldKey>}
 */
async function fromLink(link, passphrase) {
  const hash = link.includes('#') ? link.slice(link.indexOf('#') + 1) : link;
  const carried = parseFragment(hash);
  if (carried === null) throw new Error('the link carries no key');
  let pkcs8 = carried.pkcs8;
  if (!pkcs8) {
    if (typeof passphrase !== 'string') throw new Error('the link is password-protected: give its passphrase');
    pkcs8 = await decryptProtected(carried.protected, passphrase);
  }
  return { ...(await importLinkKey(pkcs8)), signingKey: carried.signingKey };
}
