/**
 * A tile's stats overlay (the tile's Stats button): live latency, bitrate, loss, whether the
 * server records the stream and the camera records locally, the camera's battery and signal.
 *
 * - Latency is glass to glass: the camera's status (camera-data.js) names a video frame and
 *   when it was captured; the worker gives that frame's RTP timestamp (90 kHz, the camera's
 *   capture clock), which anchors the capture time of every later frame; the video
 *   element's `requestVideoFrameCallback` says when each frame is shown. Shown time −
 *   capture time, with this computer's clock corrected to the server's (clock.js); the
 *   camera's clock is held to the server's by the server (its tolerance).
 * - Bitrate and loss: the video receiver's `inbound-rtp` stats over the last second.
 * - Recording: the stream's recording on the server (`GET /api/recordings/{stream id}`), and
 *   the camera's own local recording (its status).
 *
 * Test hooks: `.tile-stats` (hidden unless shown) with `[data-stat]` cells (`latency`,
 * `bitrate`, `loss`, `recording`, `battery`, `signal`), each carrying `data-value` (a
 * number, or 'on'/'off' for recording) once known.
 */
import { el } from './dom.js';

const EVERY_MS = 1000;
const RECORDING_EVERY_MS = 5000;
const SHOW_EVERY_MS = 500;
const RTP_HZ = 90_000;
const LABELS = { latency: 'Latency', bitrate: 'Bitrate', loss: 'Loss', recording: 'Recording', battery: 'Battery', signal: 'Signal' };

export class TileStats {
  /** @type {HTMLElement} the overlay */
  view;
  shown = false;

  #video;
  #streamId;
  #pc;
  #clock;
  #api;
  #cells = {};
  /** @type {{rtp: number, t: number} | null} a frame's RTP timestamp and capture time (camera ms) */
  #anchor = null;
  #timer = 0;
  #sampling = false;
  #lastRecordingCheck = 0;
  /** @type {{at: number, bytes: number, received: number, lost: number} | null} */
  #previous = null;
  /** @type {boolean | null} the camera records locally (its status) */
  #cameraRecording = null;
  /** @type {boolean | null} the server records the stream */
  #serverRecording = null;

  /**
   * @param {HTMLVideoElement} video the tile's picture
   * @param {string} streamId
   * @param {() => RTCPeerConnection | null} pc the tile's subscription
   * @param {import('./clock.js').ClockCheck | null} clock
   * @param {import('./api.js').Api} api the server as the page calls it
   */
  constructor(video, streamId, pc, clock, api) {
    this.#api = api;
    this.#video = video;
    this.#streamId = streamId;
    this.#pc = pc;
    this.#clock = clock;
    const rows = Object.entries(LABELS).map(([name, label]) => {
      this.#cells[name] = el('dd', { dataset: { stat: name }, textContent: '…' });
      return [el('dt', { textContent: label }), this.#cells[name]];
    });
    this.view = el('dl', { className: 'tile-stats', hidden: true, attrs: { 'aria-label': 'Stream statistics' } }, ...rows.flat());
    this.#set('battery', null, 'not reported');
    this.#set('signal', null, 'not reported');
  }

  /** @param {boolean} shown */
  show(shown) {
    this.shown = shown;
    this.view.hidden = !shown;
    clearInterval(this.#timer);
    if (!shown) return;
    this.#previous = null;
    this.#timer = setInterval(() => this.#sample(), EVERY_MS);
    this.#sample();
    this.#watchFrames();
  }

  close() {
    this.show(false);
  }

  /** @param {import('./camera-data.js').Status} status the camera's, opened by the worker */
  onStatus(status) {
    if (status.battery !== null) this.#set('battery', status.battery, `${status.battery} %`);
    if (status.signal !== null) this.#set('signal', status.signal, `${status.signal} dBm`);
    if (status.recording !== null) this.#cameraRecording = status.recording;
    this.#showRecording();
  }

  /**
   * A video frame's capture time, by its RTP timestamp (from the worker).
   * @param {{rtp: number, t: number}} capture
   */
  onCapture({ rtp, t }) {
    this.#anchor = { rtp, t };
  }

  /** While shown: the frames shown give the latency (every {@link SHOW_EVERY_MS}). */
  #watchFrames() {
    const video = this.#video;
    if (!video.requestVideoFrameCallback) return;
    let lastShown = 0;
    const onFrame = (now, metadata) => {
      if (!this.shown) return;
      const anchor = this.#anchor;
      if (anchor && Number.isFinite(metadata.rtpTimestamp) && now - lastShown >= SHOW_EVERY_MS) {
        lastShown = now;
        const ticks = ((metadata.rtpTimestamp - anchor.rtp + 2 ** 31) >>> 0) - 2 ** 31; // wraps at 2^32
        const captured = anchor.t + (ticks * 1000) / RTP_HZ;
        const shownAt = performance.timeOrigin + metadata.expectedDisplayTime - (this.#clock?.offsetMs ?? 0);
        const latency = Math.max(0, Math.round(shownAt - captured));
        this.#set('latency', latency, `${latency} ms`);
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  async #sample() {
    if (this.#sampling) return; // the last one still runs (a busy computer)
    this.#sampling = true;
    try {
      await this.#sampleOnce();
    } finally {
      this.#sampling = false;
    }
  }

  async #sampleOnce() {
    const pc = this.#pc();
    if (pc) {
      const report = await pc.getStats();
      const inbound = [...report.values()].find((entry) => entry.type === 'inbound-rtp' && entry.kind === 'video');
      if (inbound) this.#rates(inbound);
    }
    if (Date.now() - this.#lastRecordingCheck >= RECORDING_EVERY_MS) {
      this.#lastRecordingCheck = Date.now();
      try {
        const recording = await this.#api.call('GET', `/api/recordings/${encodeURIComponent(this.#streamId)}`);
        this.#serverRecording = recording.state !== 'complete';
      } catch {
        this.#serverRecording = false; // none for this stream (or not readable): not recorded
      }
      this.#showRecording();
    }
  }

  /** @param {{timestamp: number, bytesReceived: number, packetsReceived: number, packetsLost: number}} inbound */
  #rates({ timestamp, bytesReceived, packetsReceived, packetsLost }) {
    const now = { at: timestamp, bytes: bytesReceived, received: packetsReceived, lost: packetsLost };
    const before = this.#previous;
    this.#previous = now;
    if (!before || now.at <= before.at) return;
    const kbits = Math.round(((now.bytes - before.bytes) * 8) / (now.at - before.at));
    this.#set('bitrate', kbits, `${kbits} kbit/s`);
    const lost = Math.max(0, now.lost - before.lost);
    const expected = lost + (now.received - before.received);
    const loss = expected > 0 ? Math.round((1000 * lost) / expected) / 10 : 0;
    this.#set('loss', loss, `${loss} %`);
  }

  #showRecording() {
    const word = (on) => (on === null ? '?' : on ? 'on' : 'off');
    const on = this.#serverRecording;
    this.#set('recording', on === null ? null : on ? 'on' : 'off',
      `server ${word(on)} · camera ${word(this.#cameraRecording)}`);
    this.#cells.recording.dataset.camera = word(this.#cameraRecording);
  }

  /**
   * @param {string} name
   * @param {number | string | null} value
   * @param {string} text
   */
  #set(name, value, text) {
    const cell = this.#cells[name];
    cell.textContent = text;
    if (value === null) delete cell.dataset.value;
    else cell.dataset.value = String(value);
  }
}
