/**
 * The system keys this browser holds (PROTOCOL §1): IndexedDB database `bwlive`,
 * object store `keys`, keyed by key id, each record
 * `{keyId, thumbprint, privateKey (non-extractable CryptoKey), addedAt (ISO 8601),
 * signingKey}`: `signingKey` is the system signing key that came with the link (b64u raw
 * Ed25519 public key, PROTOCOL §5); a record without one cannot verify streams.
 */
import { importLinkKey } from './e2ee.js';
import { idbRequest } from './idb.js';
import { WrongPassphraseError, decryptProtected, parseFragment } from './link-key.js';

const STORE = 'keys';
const DATABASE = Object.freeze({ name: 'bwlive', version: 1, store: STORE, keyPath: 'keyId' });

/**
 * @typedef {{keyId: string, thumbprint: string, privateKey: CryptoKey, addedAt: string,
 *   signingKey?: string | null}} KeyRecord
 * @typedef {(problem: string | null) => Promise<string | null>} AskPassphrase
 *   asks the operator for the passphrase (showing the problem with the last one);
 *   null: the operator gave up
 */

/**
 * Store the key of a link with key (`#key=` or password-protected `#pkey=`) and remove
 * the fragment from the address bar, also when the key in it is unusable. A protected
 * link asks for its passphrase until it is right; if the operator gives up, the
 * fragment stays so that a reload asks again.
 * @param {{askPassphrase?: AskPassphrase}} [options]
 * @returns {Promise<KeyRecord | null>} the stored record, null when the link has no key
 * @throws {Error} when the fragment holds something that is not a P-256 private key
 */
export async function importFromLocationHash({ askPassphrase } = {}) {
  let removeFragment = true;
  try {
    const carried = parseFragment(location.hash.slice(1));
    if (carried === null) return null;
    let pkcs8 = carried.pkcs8;
    let problem = null;
    while (!pkcs8) {
      const passphrase = askPassphrase ? await askPassphrase(problem) : null;
      if (passphrase === null) {
        removeFragment = false;
        return null;
      }
      try {
        pkcs8 = await decryptProtected(carried.protected, passphrase);
      } catch (error) {
        if (!(error instanceof WrongPassphraseError)) throw error;
        problem = error.message;
      }
    }
    return await storePkcs8(pkcs8, carried.signingKey);
  } finally {
    if (removeFragment && location.hash) history.replaceState(history.state, '', location.pathname + location.search);
  }
}

/**
 * Keep a private key in this browser, non-extractable, under its key id, with the
 * system signing key of its link (without one, the one held for that key id is kept).
 * @param {BufferSource} pkcs8 PKCS#8 DER of an ECDH P-256 private key
 * @param {string | null} [signingKey] b64u raw Ed25519 system signing key
 * @returns {Promise<KeyRecord>}
 */
export async function storePkcs8(pkcs8, signingKey = null) {
  return storeKey({ ...(await importLinkKey(pkcs8)), signingKey });
}

/**
 * Keep a private key in this browser under its key id (a CryptoKey is kept as it is:
 * non-extractable stays so), with its system signing key (without one, the one held for
 * that key id is kept).
 * @param {{keyId: string, thumbprint: string, privateKey: CryptoKey, signingKey?: string | null}} key
 * @returns {Promise<KeyRecord>}
 */
export async function storeKey({ keyId, thumbprint, privateKey, signingKey = null }) {
  const held = signingKey ?? (await getKey(keyId))?.signingKey ?? null;
  const record = { keyId, thumbprint, privateKey, addedAt: new Date().toISOString(), signingKey: held };
  await request((db) => db.transaction(STORE, 'readwrite').objectStore(STORE).put(record));
  return record;
}

/**
 * @param {string} keyId
 * @returns {Promise<KeyRecord | undefined>}
 */
export function getKey(keyId) {
  return request((db) => db.transaction(STORE).objectStore(STORE).get(keyId));
}

/** @returns {Promise<KeyRecord[]>} oldest first */
export async function listKeys() {
  const records = await request((db) => db.transaction(STORE).objectStore(STORE).getAll());
  return records.sort((a, b) => a.addedAt.localeCompare(b.addedAt));
}

/**
 * @param {(db: IDBDatabase) => IDBRequest} makeRequest
 */
function request(makeRequest) {
  return idbRequest(DATABASE, makeRequest);
}
