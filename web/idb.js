/**
 * One IndexedDB request in its own transaction, on a database of one object store
 * (made on first open): the key store's (keystore.js) and the phone camera's
 * (camera-store.js).
 */

/**
 * Run one request; resolve with its result once committed.
 * @param {{name: string, version: number, store: string, keyPath: string}} database
 * @param {(db: IDBDatabase) => IDBRequest} makeRequest
 */
export async function idbRequest(database, makeRequest) {
  const db = await openDatabase(database);
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

/**
 * @param {{name: string, version: number, store: string, keyPath: string}} database
 * @returns {Promise<IDBDatabase>}
 */
function openDatabase({ name, version, store, keyPath }) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(name, version);
    open.onupgradeneeded = () => open.result.createObjectStore(store, { keyPath });
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}
