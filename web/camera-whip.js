/**
 * A phone camera's WHIP publish (PROTOCOL §4, §5): video and audio from the page's
 * MediaStream, each sender's frames sealed by camera-sender-worker.js, the `bwlive` data
 * channel, and the headers the server checks (credential, key envelope, camera time,
 * proof, manifest).
 */
import { errorSentence } from './api.js';
import { iceGatheringComplete, parseIceServerLinks } from './whep.js';

const WORKER_URL = new URL('./camera-sender-worker.js', import.meta.url);

export class WhipError extends Error {}

export class WhipPublish {
  /** @type {RTCPeerConnection} */
  pc;
  /** @type {RTCDataChannel} */
  channel;
  /** @type {Worker} seals the frames; posts `{type: 'unit', kid, ctr, hash}` */
  worker;
  /** @type {string | null} the session's resource URL */
  resource = null;
  #credential;

  /**
   * @param {MediaStream} media
   * @param {string} credential the device credential (certificate token)
   * @param {RTCIceServer[]} iceServers
   */
  constructor(media, credential, iceServers) {
    this.#credential = credential;
    this.worker = new Worker(WORKER_URL, { type: 'module' });
    this.pc = new RTCPeerConnection({ iceServers });
    for (const track of media.getTracks()) {
      const transceiver = this.pc.addTransceiver(track, { direction: 'sendonly', streams: [media] });
      offerOnly(transceiver, track.kind === 'video' ? ['video/vp8', 'video/rtx'] : ['audio/opus']);
      transceiver.sender.transform = new RTCRtpScriptTransform(this.worker, { kind: track.kind });
    }
    this.channel = this.pc.createDataChannel('bwlive');
    this.channel.binaryType = 'arraybuffer';
  }

  /** @param {string} credential */
  static async iceServers(credential) {
    const response = await fetch('/whip', { method: 'OPTIONS', headers: { Authorization: `Bearer ${credential}` } });
    return response.ok ? parseIceServerLinks(response.headers.get('Link') ?? '') : [];
  }

  /**
   * Send the offer with the headers `sign(offer)` gives; take the answer.
   * @param {(offer: string) => Promise<Record<string, string>>} sign
   */
  async publish(sign) {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await iceGatheringComplete(this.pc);
    const offer = this.pc.localDescription.sdp;
    const response = await fetch('/whip', {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${this.#credential}`, ...(await sign(offer)) },
      body: offer,
    });
    if (response.status !== 201) throw new WhipError(await errorSentence(response));
    this.resource = response.headers.get('Location');
    await this.pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  }

  /** End the stream at the server and close the connection. */
  async close() {
    this.worker.terminate();
    this.pc.close();
    if (this.resource) {
      await fetch(this.resource, { method: 'DELETE', headers: { Authorization: `Bearer ${this.#credential}` } })
        .catch(() => {});
    }
  }
}

/**
 * Offer only these codecs: VP8 with Chromium's RTX (retransmissions on their own SSRC,
 * which the SFU unwraps), or Opus; never H.264 or AV1, whose frames the SFU cannot read.
 * @param {RTCRtpTransceiver} transceiver
 * @param {string[]} mimeTypes lower case
 */
function offerOnly(transceiver, mimeTypes) {
  const codecs = RTCRtpSender.getCapabilities(transceiver.sender.track.kind)?.codecs ?? [];
  transceiver.setCodecPreferences(codecs.filter((codec) => mimeTypes.includes(codec.mimeType.toLowerCase())));
}

