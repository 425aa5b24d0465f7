/**
 * What a paired phone keeps (IndexedDB database `bwlive-camera`, store `phone`, one
 * record `{id: 'phone', deviceKey, publicKey, pickup, serial, cameraUser, package}`):
 * its Ed25519 device key as a non-extractable CryptoKey pair made here (the private half
 * never leaves this browser, PROTOCOL §6), the secret with which it picks up its dock
 * package, and the newest package.
 */
import { b64uEncode } from './e2ee.js';
import { idbRequest } from './idb.js';

const STORE = 'phone';
const DATABASE = Object.freeze({ name: 'bwlive-camera', version: 1, store: STORE, keyPath: 'id' });

/**
 * @typedef {{id: 'phone', deviceKey: CryptoKeyPair, publicKey: string, pickup: string | null,
 *   serial: string | null, cameraUser: string | null, package: object | null}} PhoneRecord
 */

/** @returns {Promise<PhoneRecord | undefined>} */
export function loadPhone() {
  return idbRequest(DATABASE, (db) => db.transaction(STORE).objectStore(STORE).get('phone'));
}

/** @param {PhoneRecord} record */
export function savePhone(record) {
  return idbRequest(DATABASE, (db) => db.transaction(STORE, 'readwrite').objectStore(STORE).put(record));
}

/**
 * A fresh record with a new device key (Ed25519, private half non-extractable).
 * @returns {Promise<PhoneRecord>}
 */
export async function newPhone() {
  const deviceKey = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
  const publicKey = b64uEncode(new Uint8Array(await crypto.subtle.exportKey('raw', deviceKey.publicKey)));
  return { id: 'phone', deviceKey, publicKey, pickup: null, serial: null, cameraUser: null, package: null };
}
