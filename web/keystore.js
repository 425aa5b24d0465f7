/**
 * The system keys this browser holds (PROTOCOL §1): IndexedDB database `bwlive`,
 * object store `keys`, keyed by key id, each record
 * `{keyId, thumbprint, privateKey (non-extractable CryptoKey), addedAt (ISO 8601)}`.
 */
import { b64uDecode, importLinkKey } from './e2ee.js';

const DB_NAME = 'bwlive';
const DB_VERSION = 1;
const STORE = 'keys';
const FRAGMENT_KEY = 'key';

/**
 * @typedef {{keyId: string, thumbprint: string, privateKey: CryptoKey, addedAt: string}} KeyRecord
 */

/**
 * Store the key of a link with key (`#key=<b64u PKCS#8>`) and remove the fragment
 * from the address bar, also when the key in it is unusable.
 * @returns {Promise<KeyRecord | null>} the stored record, null when the link has no key
 * @throws {Error} when the fragment holds something that is not a P-256 private key
 */
export async function importFromLocationHash() {
  const value = new URLSearchParams(location.hash.slice(1)).get(FRAGMENT_KEY);
  if (value === null) return null;
  try {
    let pkcs8;
    try {
      pkcs8 = b64uDecode(value);
    } catch {
      throw new Error('the key in the link is not base64url');
    }
    const { keyId, thumbprint, privateKey } = await importLinkKey(pkcs8);
    const record = { keyId, thumbprint, privateKey, addedAt: new Date().toISOString() };
    await request((db) => db.transaction(STORE, 'readwrite').objectStore(STORE).put(record));
    return record;
  } finally {
    history.replaceState(history.state, '', location.pathname + location.search);
  }
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
 * Run one request in its own transaction; resolve with its result once committed.
 * @param {(db: IDBDatabase) => IDBRequest} makeRequest
 */
async function request(makeRequest) {
  const db = await openDatabase();
  try {
    return await new Promise((resolve, reject) => {
      const req = makeRequest(db);
      req.transaction.oncomplete = () => resolve(req.result);
      req.transaction.onabort = () => reject(req.error ?? req.transaction.error);
    });
  } finally {
    db.close();
  }
}

/** @returns {Promise<IDBDatabase>} */
function openDatabase() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB_NAME, DB_VERSION);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: 'keyId' });
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}
