/**
 * Plays a recording back in the browser: its segments are fetched from the server as
 * ciphertext (docs/RECORDINGS.md, "Wire form"), each frame is decrypted with WebCrypto
 * (FrameCipher) and decoded with WebCodecs: VP8 to a canvas, Opus to Web Audio. Positions
 * are decrypted too and drawn as a trail. Play, pause and seek (from the key frame at or
 * before the target) are driven by one clock.
 *
 * The element passed in carries `data-state` (loading, paused, playing, ended, error),
 * `data-position` (ms), `data-decoded` (pictures drawn), `data-audio` (audio frames
 * scheduled) and `data-undecryptable`.
 */
import { DecryptError } from './e2ee.js';

const KIND = Object.freeze({ 0: 'video', 1: 'audio', 2: 'camera_data' });
const HEADER_BYTES = 10;
const AUDIO_LEAD_MS = 300; // audio is decoded and scheduled this far ahead of the clock
const TICK_MS = 20;

/**
 * @typedef {{kind: 'video'|'audio'|'camera_data', ms: number, key: boolean, data: Uint8Array}} Frame
 * @typedef {{ms: number, lat: number, lon: number}} Point
 */

/**
 * Split a segment body into frames.
 * @param {ArrayBuffer} buffer
 * @returns {Frame[]}
 */
export function parseFrames(buffer) {
  const view = new DataView(buffer);
  const frames = [];
  for (let offset = 0; offset + HEADER_BYTES <= buffer.byteLength; ) {
    const kind = KIND[view.getUint8(offset)];
    const key = (view.getUint8(offset + 1) & 1) === 1;
    const ms = view.getUint32(offset + 2);
    const length = view.getUint32(offset + 6);
    offset += HEADER_BYTES;
    if (kind) frames.push({ kind, ms, key, data: new Uint8Array(buffer, offset, length) });
    offset += length;
  }
  return frames;
}

export class RecordingPlayer {
  /** @type {Frame[]} */ #video = [];
  /** @type {Frame[]} */ #audio = [];
  /** @type {Point[]} */ #trail = [];
  #nextVideo = 0;
  #nextAudio = 0;
  #generation = 0; // bumped by every seek/pause: stale async work is dropped
  #pumping = false;
  #playing = false;
  #anchorMs = 0;
  #anchorClock = 0;
  #duration = 0;
  #decoded = 0;
  #audioScheduled = 0;
  #undecryptable = 0;
  #timer = 0;
  /** @type {Set<AudioBufferSourceNode>} */ #sources = new Set();

  /**
   * @param {{element: HTMLElement, canvas: HTMLCanvasElement, onTick?: (player: RecordingPlayer) => void,
   *          onTrail?: (points: Point[]) => void}} view
   * @param {import('./e2ee.js').FrameCipher} cipher the recording's content key
   */
  constructor(view, cipher) {
    this.view = view;
    this.cipher = cipher;
    this.context2d = view.canvas.getContext('2d');
    this.audioContext = new AudioContext({ sampleRate: 48000 });
    this.videoDecoder = this.#newVideoDecoder();
    this.audioDecoder = new AudioDecoder({ output: (data) => this.#schedule(data), error: () => {} });
    this.audioDecoder.configure({ codec: 'opus', sampleRate: 48000, numberOfChannels: 1 });
    this.#setState('loading');
  }

  /** @returns {number} the playback position in ms */
  get position() {
    if (!this.#playing) return this.#anchorMs;
    return Math.min(this.#duration, this.#anchorMs + performance.now() - this.#anchorClock);
  }

  get duration() {
    return this.#duration;
  }

  get playing() {
    return this.#playing;
  }

  /** The decrypted positions so far (time order). */
  get trail() {
    return this.#trail;
  }

  /**
   * Fetch every segment in turn, starting playback when the first has arrived.
   * @param {{id: string, duration_ms: number, segments: {seq: number}[]}} recording
   * @param {(url: string) => Promise<Response>} fetcher
   */
  async load(recording, fetcher) {
    this.#duration = recording.duration_ms;
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    for (const [index, segment] of recording.segments.entries()) {
      const response = await fetcher(`/api/recordings/${encodeURIComponent(recording.id)}/segments/${segment.seq}`);
      if (!response.ok) throw new Error(`segment ${segment.seq} could not be fetched (${response.status})`);
      await this.#add(parseFrames(await response.arrayBuffer()));
      if (index === 0) this.play();
    }
    if (recording.segments.length === 0) this.#setState('ended');
  }

  play() {
    if (this.#playing || !this.#timer) return;
    if (this.#anchorMs >= this.#duration) this.seek(0);
    this.#anchorClock = performance.now();
    this.#playing = true;
    this.audioContext.resume();
    this.#setState('playing');
  }

  pause() {
    if (!this.#playing) return;
    this.#anchorMs = this.position;
    this.#playing = false;
    this.#restartAudio();
    this.#setState('paused');
  }

  /** Show the picture at `ms` (decoding from the key frame before it) and go on from there. */
  seek(ms) {
    const target = Math.max(0, Math.min(this.#duration, ms));
    let start = 0;
    for (let i = 0; i < this.#video.length && this.#video[i].ms <= target; i++) {
      if (this.#video[i].key) start = i;
    }
    this.#generation++;
    this.#nextVideo = start;
    this.videoDecoder.close();
    this.videoDecoder = this.#newVideoDecoder();
    this.#anchorMs = target;
    this.#anchorClock = performance.now();
    this.#restartAudio();
    this.#tick();
  }

  close() {
    clearInterval(this.#timer);
    this.#timer = 0;
    this.#generation++;
    for (const codec of [this.videoDecoder, this.audioDecoder]) if (codec.state !== 'closed') codec.close();
    this.audioContext.close();
  }

  /** @param {Frame[]} frames */
  async #add(frames) {
    for (const frame of frames) {
      if (frame.kind === 'video') this.#video.push(frame);
      else if (frame.kind === 'audio') this.#audio.push(frame);
      else await this.#addPosition(frame);
    }
    this.view.onTrail?.(this.#trail);
  }

  /** @param {Frame} frame */
  async #addPosition(frame) {
    try {
      const fix = JSON.parse(new TextDecoder().decode(await this.cipher.decryptFrame('camera_data', frame.data)));
      if (typeof fix.lat === 'number' && typeof fix.lon === 'number') this.#trail.push({ ms: frame.ms, lat: fix.lat, lon: fix.lon });
    } catch {
      this.#undecryptable++;
    }
  }

  #newVideoDecoder() {
    const decoder = new VideoDecoder({
      output: (picture) => {
        const { canvas } = this.view;
        if (canvas.width !== picture.displayWidth || canvas.height !== picture.displayHeight) {
          canvas.width = picture.displayWidth;
          canvas.height = picture.displayHeight;
        }
        this.context2d.drawImage(picture, 0, 0);
        picture.close();
        this.#decoded++;
      },
      error: () => {},
    });
    decoder.configure({ codec: 'vp8' });
    return decoder;
  }

  #tick() {
    const now = this.position;
    if (this.#playing && now >= this.#duration && this.#nextVideo >= this.#video.length) {
      this.#anchorMs = this.#duration;
      this.#playing = false;
      this.#setState('ended');
    }
    this.view.element.dataset.position = String(Math.round(now));
    this.view.element.dataset.decoded = String(this.#decoded);
    this.view.element.dataset.audio = String(this.#audioScheduled);
    this.view.element.dataset.undecryptable = String(this.#undecryptable);
    this.view.onTick?.(this);
    if (!this.#pumping) this.#pump(now);
  }

  /** Decrypt and decode, in order, the video due by `now` and the audio due a little later. */
  async #pump(now) {
    this.#pumping = true;
    const generation = this.#generation;
    try {
      while (generation === this.#generation) {
        const video = this.#video[this.#nextVideo];
        const audio = this.#playing ? this.#audio[this.#nextAudio] : undefined;
        const videoDue = video && video.ms <= now;
        const audioDue = audio && audio.ms <= now + AUDIO_LEAD_MS;
        if (!videoDue && !audioDue) break;
        const frame = videoDue && (!audioDue || video.ms <= audio.ms) ? video : audio;
        if (frame === video) this.#nextVideo++;
        else this.#nextAudio++;
        let plain;
        try {
          plain = await this.cipher.decryptFrame(frame.kind, frame.data);
        } catch (error) {
          if (!(error instanceof DecryptError)) throw error;
          this.#undecryptable++;
          continue;
        }
        if (generation !== this.#generation) break;
        const init = { type: frame.key ? 'key' : 'delta', timestamp: frame.ms * 1000, data: plain };
        if (frame === video) this.videoDecoder.decode(new EncodedVideoChunk(init));
        else this.audioDecoder.decode(new EncodedAudioChunk({ ...init, type: 'key' }));
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** @param {AudioData} data */
  #schedule(data) {
    const at = this.audioContext.currentTime + (data.timestamp / 1000 - this.position) / 1000;
    if (!this.#playing || at < this.audioContext.currentTime) {
      data.close();
      return;
    }
    const buffer = this.audioContext.createBuffer(1, data.numberOfFrames, data.sampleRate);
    data.copyTo(buffer.getChannelData(0), { planeIndex: 0, format: 'f32-planar' });
    data.close();
    const source = this.audioContext.createBufferSource();
    source.buffer = buffer;
    source.connect(this.audioContext.destination);
    source.onended = () => this.#sources.delete(source);
    this.#sources.add(source);
    source.start(at);
    this.#audioScheduled++;
  }

  /** Drop scheduled audio; continue from the first frame at the (new) position. */
  #restartAudio() {
    for (const source of this.#sources) source.stop();
    this.#sources.clear();
    const from = this.#anchorMs;
    this.#nextAudio = this.#audio.findIndex((frame) => frame.ms >= from);
    if (this.#nextAudio < 0) this.#nextAudio = this.#audio.length;
  }

  /** @param {string} state */
  #setState(state) {
    this.view.element.dataset.state = state;
    this.view.onTick?.(this);
  }
}
