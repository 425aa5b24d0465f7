/**
 * One WHEP subscription to a stream (PROTOCOL §4): receive-only VP8 video and Opus
 * audio whose frames pass through the decrypting worker (none for a data-only
 * subscription), the `bwlive` data channel, keepalives, the decrypt state, and leaving.
 */
import { CONSOLE_API, errorSentence } from './api.js';

const ICE_GATHERING_CAP_MS = 2000;
const KEEPALIVE_MS = 5000;
const HAS_SCRIPT_TRANSFORM = 'RTCRtpScriptTransform' in globalThis;

/** The server refused the subscription; `status` is its HTTP status. */
/** How long a closing session waits for its DELETE's answer before it closes the connection. */
const LEAVE_WAIT_MS = 1000;

export class WhepError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.name = 'WhepError';
    this.status = status;
  }
}

export class WhepSession {
  /** @type {RTCPeerConnection} */
  pc;
  /** @type {RTCDataChannel} the `bwlive` channel, binary messages as ArrayBuffer */
  channel;
  /** @type {string | null} the consumer resource URL (the answer's Location) */
  resource = null;
  /** @type {((track: MediaStreamTrack) => void) | null} */
  ontrack = null;
  /** @type {((reason: string) => void) | null} the server or the network ended it */
  onended = null;

  #streamId;
  #api;
  /** @type {Promise<RTCIceServer[]>} asked at once, while the caller readies the rest */
  #iceServersAsked;
  #keepaliveTimer = 0;
  #closed = false;
  /** @type {boolean | null} what the server should know about our decryption */
  #decrypting = null;
  /** @type {boolean | null} what the server was last told */
  #toldDecrypting = null;

  /**
   * Set up the peer connection and ask for the ICE servers (`OPTIONS`, in the background);
   * the offer goes to the server in {@link connect}.
   * @param {string} streamId
   * @param {{worker: Worker, tileId: string} | null} media video and audio, decrypted by
   *   the worker (an e2ee-worker.js) that gets `tileId` with every transform; null: data only
   * @param {import('./api.js').Api} [api] the server, as this page calls it
   */
  constructor(streamId, media, api = CONSOLE_API) {
    this.#streamId = streamId;
    this.#api = api;
    this.#iceServersAsked = this.#iceServers();
    this.pc = new RTCPeerConnection(HAS_SCRIPT_TRANSFORM ? {} : { encodedInsertableStreams: true });
    const { worker, tileId } = media ?? {};
    for (const kind of media ? ['video', 'audio'] : []) {
      const transceiver = this.pc.addTransceiver(kind, { direction: 'recvonly' });
      // Must happen before the offer: a transform set later is silently bypassed.
      if (HAS_SCRIPT_TRANSFORM) {
        transceiver.receiver.transform = new RTCRtpScriptTransform(worker, { kind, tileId });
      }
      preferCodec(transceiver, kind, kind === 'video' ? 'video/vp8' : 'audio/opus');
    }
    this.channel = this.pc.createDataChannel('bwlive');
    this.channel.binaryType = 'arraybuffer';
    this.pc.ontrack = ({ track, receiver }) => {
      if (!HAS_SCRIPT_TRANSFORM) {
        const { readable, writable } = receiver.createEncodedStreams();
        worker.postMessage({ type: 'streams', readable, writable, kind: track.kind, tileId }, [
          readable,
          writable,
        ]);
      }
      this.ontrack?.(track);
    };
    this.pc.onconnectionstatechange = () => {
      if (this.pc.connectionState === 'failed') this.#end('The connection to the server was lost.');
    };
  }

  /**
   * Offer, wait for ICE gathering (at most 2 s), POST to `/whep/{stream_id}`, apply
   * the answer and start the keepalives.
   * @throws {WhepError} when the server refuses
   */
  async connect() {
    // the ICE servers must be set before gathering starts (setLocalDescription), not before the offer
    const [iceServers, offer] = await Promise.all([this.#iceServersAsked, this.pc.createOffer()]);
    if (iceServers.length > 0) this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers });
    await this.pc.setLocalDescription(offer);
    await iceGatheringComplete(this.pc);
    const response = await this.#api.fetch(`/whep/${encodeURIComponent(this.#streamId)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: this.pc.localDescription.sdp,
    });
    if (response.status !== 201) {
      const fallback = `The server refused the subscription (HTTP ${response.status}).`;
      throw new WhepError(response.status, await errorSentence(response, fallback));
    }
    const location = response.headers.get('Location');
    if (!location) throw new WhepError(response.status, 'The server gave no Location for the subscription.');
    this.resource = new URL(location, response.url).href;
    if (this.#closed) {
      this.#leave();
      return;
    }
    await this.pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
    this.#keepaliveTimer = setInterval(() => this.#keepalive(), KEEPALIVE_MS);
    this.#tellDecrypting();
  }

  /**
   * The STUN/TURN servers the server hands out (RFC 9725 §4.6 `Link` headers), asked
   * for before the offer so its candidates include relayed ones; none on any failure.
   * @returns {Promise<RTCIceServer[]>}
   */
  async #iceServers() {
    try {
      const response = await this.#api.fetch(`/whep/${encodeURIComponent(this.#streamId)}`, { method: 'OPTIONS' });
      return response.ok ? parseIceServerLinks(response.headers.get('Link') ?? '') : [];
    } catch {
      return [];
    }
  }

  /**
   * Tell the server whether this browser decrypts the stream (it ignores our key
   * frame requests while not); sent once subscribed and again on every change.
   * @param {boolean} decrypting
   */
  setDecrypting(decrypting) {
    this.#decrypting = decrypting;
    this.#tellDecrypting();
  }

  /** Leave: DELETE the subscription (also from pagehide) and close the connection. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepaliveTimer);
    // The connection closes once the server has let the subscription go (at most after
    // LEAVE_WAIT_MS): closed first, the server would see it end and answer the DELETE with
    // 404 (a cross-origin DELETE waits for its CORS preflight too).
    const waited = new Promise((resolve) => setTimeout(resolve, LEAVE_WAIT_MS));
    Promise.race([this.#leave(), waited]).finally(() => this.pc.close());
  }

  /** @returns {Promise<unknown>} settled when the server answered the DELETE (or it failed) */
  #leave() {
    if (!this.resource) return Promise.resolve();
    // keepalive lets the request outlive the page; sendBeacon cannot DELETE.
    return this.#api.fetch(this.resource, { method: 'DELETE', keepalive: true }).catch(() => {});
  }

  /** @param {string} reason */
  #end(reason) {
    if (this.#closed) return;
    this.close();
    this.onended?.(reason);
  }

  async #keepalive() {
    try {
      const response = await this.#api.fetch(`${this.resource}/keepalive`, { method: 'POST' });
      if (response.status === 404) this.#end('The stream has ended.');
    } catch {
      return; // the server is unreachable for now; the next keepalive tries again
    }
    this.#tellDecrypting();
  }

  async #tellDecrypting() {
    const decrypting = this.#decrypting;
    if (!this.resource || this.#closed || decrypting === null || decrypting === this.#toldDecrypting) {
      return;
    }
    this.#toldDecrypting = decrypting;
    try {
      await this.#api.call('POST', `${this.resource}/decrypt-state`, { decrypting });
    } catch {
      // told nothing after all: the next keepalive tries again
      if (this.#toldDecrypting === decrypting) this.#toldDecrypting = null;
    }
  }
}

/**
 * The `rel="ice-server"` links of a `Link` header value as RTCIceServer entries.
 * @param {string} header
 * @returns {RTCIceServer[]}
 */
export function parseIceServerLinks(header) {
  const servers = [];
  for (const [, url, rest] of header.matchAll(/<([^>]*)>([^<]*)/g)) {
    /** @type {Record<string, string>} */
    const params = {};
    for (const [, key, quoted, bare] of rest.matchAll(/;\s*([\w-]+)\s*=\s*(?:"([^"]*)"|([^;,\s]*))/g)) {
      params[key.toLowerCase()] = quoted ?? bare;
    }
    if (params.rel !== 'ice-server') continue;
    const server = /** @type {RTCIceServer} */ ({ urls: url });
    if (params.username) server.username = params.username;
    if (params.credential) server.credential = params.credential;
    servers.push(server);
  }
  return servers;
}

/**
 * Offer only one codec (VP8 or Opus) where the browser lets us choose.
 * @param {RTCRtpTransceiver} transceiver
 * @param {'video'|'audio'} kind
 * @param {string} mimeType lower case
 */
function preferCodec(transceiver, kind, mimeType) {
  const codecs = RTCRtpReceiver.getCapabilities(kind)?.codecs ?? [];
  const preferred = codecs.filter((codec) => codec.mimeType.toLowerCase() === mimeType);
  if (preferred.length > 0 && transceiver.setCodecPreferences) {
    transceiver.setCodecPreferences(preferred);
  }
}

/**
 * Resolve when ICE gathering completes, or after ICE_GATHERING_CAP_MS.
 * @param {RTCPeerConnection} pc
 */
export function iceGatheringComplete(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => pc.iceGatheringState === 'complete' && done();
    const timer = setTimeout(done, ICE_GATHERING_CAP_MS);
    pc.addEventListener('icegatheringstatechange', check);
  });
}
