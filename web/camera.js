/**
 * `camera.html`: a phone as a body-worn camera (PROTOCOL §6). Paired once with an
 * admin's code (the device key is made here and never leaves), it streams with one
 * button: getUserMedia video and audio, Chromium's encoder, every frame sealed on the
 * sender (camera-sender-worker.js), the stream signed as the agent signs it
 * (camera-signing.js), positions from the Geolocation API each second, and
 * acknowledgements shown as a banner and a vibration.
 */
import { errorSentence } from './api.js';
import { AcknowledgementOpener } from './camera-acknowledge.js';
import { ChainWriter, envelopeHeader, sealStreamSecret, signManifest, whipProof } from './camera-signing.js';
import { loadPhone, newPhone, savePhone } from './camera-store.js';
import { WhipPublish } from './camera-whip.js';
import { byId, showText } from './dom.js';
import { FrameCipher, importStreamKey } from './e2ee.js';
import { unitHash } from './stream-verifier.js';
import { exposeForTests } from './test-view.js';

const CHECKPOINT_MS = 500;
const POSITION_MS = 1000;
const PICKUP_RETRY_MS = 2000;
const VIBRATION = [300, 150, 300];

/** @type {import('./camera-store.js').PhoneRecord | null} */
let phone = null;
/** @type {Live | null} */
let live = null;
/** What the page shows: 'unpaired' | 'waiting' | 'ready' | 'starting' | 'live'. */
let state = 'unpaired';
const acknowledgements = [];
let vibrations = 0;

/** One running stream: its connection, key, chain and timers. */
class Live {
  /** @type {WhipPublish} */ whip;
  /** @type {MediaStream} */ media;
  /** @type {FrameCipher} */ cipher;
  /** @type {AcknowledgementOpener} */ opener;
  /** @type {ChainWriter} */ chain;
  /** @type {GeolocationPosition | null} */ fix = null;
  dataCounter = 0;
  timers = [];
  watch = -1;
}

async function main() {
  navigator.serviceWorker?.register('/web/camera-sw.js', { scope: '/web/' }).catch(() => {});
  exposeForTests({ state: () => state, serial: () => phone?.serial ?? null, acknowledgements: () => [...acknowledgements],
    vibrations: () => vibrations, stats: () => live?.whip.pc.getStats().then((report) => [...report.values()]) ?? null,
    answer: () => live?.whip.pc.remoteDescription?.sdp ?? null });
  const code = new URLSearchParams(location.hash.slice(1)).get('pair');
  if (code) {
    byId('pair-code').value = code;
    history.replaceState(null, '', location.pathname);
  }
  byId('pair-form').addEventListener('submit', (event) => {
    event.preventDefault();
    pair(byId('pair-code').value.trim()).catch(fail);
  });
  byId('go').addEventListener('click', () => (live ? stop() : start()).catch(fail));
  phone = (await loadPhone()) ?? null;
  if (phone?.pickup) await pickUp();
  else render('unpaired');
}

/** @param {string} code */
async function pair(code) {
  phone = phone?.pickup ? phone : await newPhone();
  const response = await fetch('/api/pairings/redeem', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code, device_key: phone.publicKey }),
  });
  if (response.status !== 201) throw new Error(await errorSentence(response));
  const paired = await response.json();
  Object.assign(phone, { pickup: paired.pickup, serial: paired.serial, cameraUser: paired.camera_user, package: null });
  await savePhone(phone);
  await pickUp();
}

/** Take the newest dock package; while the system has not docked this phone, ask again. */
async function pickUp() {
  const response = await fetch('/api/pairings/package', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ pickup: phone.pickup }),
  });
  if (response.ok) {
    phone.package = await response.json();
    await savePhone(phone);
  } else if (!phone.package) {
    say(await errorSentence(response));
    if (response.status === 409) setTimeout(() => pickUp().catch(fail), PICKUP_RETRY_MS);
    render(response.status === 409 ? 'waiting' : 'unpaired');
    return;
  }
  say(`${phone.serial} of ${phone.package.camera_user}: certificate valid until ` +
    `${new Date(phone.package.credential_expires_at).toLocaleString()}`);
  render('ready');
}

async function start() {
  render('starting');
  await pickUp(); // a renewed credential, if the system docked this phone again
  const { credential, public_key: publicKey } = phone.package;
  live = new Live();
  live.media = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
  byId('preview').srcObject = live.media;
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const envelope = await sealStreamSecret(publicKey, secret);
  const streamKey = await importStreamKey(secret);
  secret.fill(0);
  live.cipher = new FrameCipher(streamKey);
  live.opener = new AcknowledgementOpener(live.cipher);
  live.whip = new WhipPublish(live.media, credential, await WhipPublish.iceServers(credential));
  live.whip.worker.postMessage({ type: 'key', key: streamKey });
  const startedAt = Date.now();
  const manifest = await signManifest(phone.deviceKey.privateKey, credential, envelope, startedAt);
  live.chain = await ChainWriter.start(phone.deviceKey.privateKey, manifest.payload);
  live.whip.worker.onmessage = ({ data }) => data.type === 'unit' && live?.chain.add(data.kid, data.ctr, data.hash);
  const header = envelopeHeader(envelope);
  live.whip.channel.onopen = () => startTimers(live);
  live.whip.channel.onmessage = ({ data }) => typeof data === 'string' && acknowledged(JSON.parse(data));
  live.whip.pc.onconnectionstatechange = () => live?.whip.pc.connectionState === 'failed' && fail(new Error(
    'The connection to the server was lost. Press the button to stream again.'));
  await live.whip.publish(async (offer) => ({
    'Bwlive-Content-Key': header, 'Bwlive-Camera-Time': String(startedAt),
    'Bwlive-Proof': await whipProof(phone.deviceKey.privateKey, offer, header, startedAt),
    'Bwlive-Manifest': manifest.token,
  }));
  say(`Streaming as ${phone.package.camera_user}.`);
  render('live');
}

/** @param {Live} stream */
function startTimers(stream) {
  stream.watch = navigator.geolocation?.watchPosition((fix) => { stream.fix = fix; }, () => {},
    { enableHighAccuracy: true }) ?? -1;
  stream.timers.push(setInterval(() => sendCheckpoint(stream).catch(fail), CHECKPOINT_MS));
  stream.timers.push(setInterval(() => sendPosition(stream).catch(fail), POSITION_MS));
}

/** @param {Live} stream */
async function sendCheckpoint(stream) {
  const token = await stream.chain.checkpoint(Date.now());
  if (stream.whip.channel.readyState === 'open') stream.whip.channel.send(JSON.stringify({ type: 'checkpoint', token }));
}

/** The newest fix, sealed as the camera's data (KID 2), noted in the chain. @param {Live} stream */
async function sendPosition(stream) {
  if (!stream.fix) return;
  const { latitude: lat, longitude: lon, accuracy } = stream.fix.coords;
  const message = new TextEncoder().encode(JSON.stringify({ type: 'position', lat, lon, accuracy, t: Date.now(), fix: true }));
  const ctr = stream.dataCounter++;
  const sealed = await stream.cipher.encryptFrame('camera_data', message, ctr);
  stream.chain.add(2, ctr, await unitHash(sealed));
  if (stream.whip.channel.readyState === 'open') stream.whip.channel.send(sealed);
}

/** @param {object} message relayed by the server */
async function acknowledged(message) {
  const by = await live?.opener.open(message, Date.now());
  if (by == null) return;
  acknowledgements.push(by);
  if (navigator.vibrate?.(VIBRATION)) vibrations += 1;
  const banner = byId('ack-banner');
  showText(banner, `Acknowledged by ${by}`);
  setTimeout(() => showText(banner, null), 10_000);
}

async function stop() {
  const stream = live;
  live = null;
  if (!stream) return;
  stream.timers.forEach(clearInterval);
  if (stream.watch >= 0) navigator.geolocation.clearWatch(stream.watch);
  stream.media?.getTracks().forEach((track) => track.stop());
  await stream.whip?.close();
  say('Stopped.');
  render('ready');
}

/** @param {Error} error */
function fail(error) {
  (live ? stop() : Promise.resolve()).catch(() => {}).finally(() => {
    if (!phone?.package) render('unpaired');
    say(error.message);
  });
}

/** @param {string} text */
function say(text) {
  byId('status').textContent = text;
}

/** @param {string} next */
function render(next) {
  state = next;
  document.body.dataset.state = next;
  byId('pairing').hidden = next !== 'unpaired';
  byId('camera').hidden = next === 'unpaired';
  const go = byId('go');
  go.disabled = next === 'waiting' || next === 'starting';
  go.textContent = next === 'live' ? 'Stop' : 'Start';
  go.setAttribute('aria-pressed', String(next === 'live'));
}

main().catch(fail);
