/**
 * Plays a recording back in the browser: its segments are fetched on demand around the
 * play position (segment-cache.js, a bounded cache), each frame is decrypted with
 * WebCrypto (FrameCipher) and decoded with WebCodecs: VP8 to a canvas, Opus to Web Audio.
 * One clock drives play, pause, seek, speed (0.5x–8x; sound only at 1x) and frame steps.
 *
 * The picture always belongs to the time shown: a seek into a part not yet fetched
 * blanks the picture and waits ('loading') for the segments from the key frame at or
 * before the target, decodes from there and shows the last picture at or before it;
 * playing into a part not fetched yet stops the clock until it is there. Used by the
 * recordings page and, for a live stream's running recording, by a tile's rewind.
 *
 * The element passed in carries `data-state` (loading, paused, playing, ended, error),
 * `data-position` (ms), `data-picture-ms` (the time of the picture shown, -1 for none),
 * `data-speed`, `data-decoded` (pictures drawn), `data-audio` (audio frames scheduled),
 * `data-undecryptable`, `data-cached` (segments held) and `data-cached-most` (the most
 * ever held at once).
 */
import { DecryptError } from './e2ee.js';
import { SegmentCache } from './segment-cache.js';

export const SPEEDS = Object.freeze([0.5, 1, 2, 4, 8]);
const AUDIO_LEAD_MS = 300; // audio is decoded and scheduled this far ahead of the clock
const TICK_MS = 20;
const KEY_FRAME_SEARCH = 8; // segments looked back for a key frame (a camera sends one every 3 s)

/**
 * @typedef {import('./segment-cache.js').Frame} Frame
 * @typedef {{id: string, duration_ms: number, segments: import('./segment-cache.js').SegmentInfo[]}} Recording
 * @typedef {{seg: number, next: number}} Cursor where the next frame to decode is
 */

export class RecordingPlayer {
  /** @type {SegmentCache | null} */ #cache = null;
  /** @type {Cursor} */ #video = { seg: 0, next: 0 };
  /** @type {Cursor} */ #audio = { seg: 0, next: 0 };
  #generation = 0; // bumped by every seek: stale async work is dropped
  #pumping = false;
  #playing = false; // the operator wants it to play
  #waiting = true; // the frames due are not fetched yet: the clock stands
  #seeking = false;
  #anchorMs = 0;
  #anchorClock = 0;
  #speed = 1;
  #duration = 0;
  #drawFrom = 0; // pictures before this time are decoded, not drawn (catching up after a seek)
  #pictureMs = -1;
  #decoded = 0;
  #audioScheduled = 0;
  #undecryptable = 0;
  #timer = 0;
  #live = false;
  /** @type {number | null} the picture the frame steps have reached (the canvas may lag) */
  #stepped = null;
  #steps = Promise.resolve(); // one step after the other, however fast the clicks
  /** @type {Set<AudioBufferSourceNode>} */ #sources = new Set();

  /**
   * @param {{element: HTMLElement, canvas: HTMLCanvasElement, onTick?: (player: RecordingPlayer) => void}} view
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
    if (!this.#playing || this.#waiting) return this.#anchorMs;
    return Math.min(this.#duration, this.#anchorMs + (performance.now() - this.#anchorClock) * this.#speed);
  }

  get duration() {
    return this.#duration;
  }

  get playing() {
    return this.#playing;
  }

  get speed() {
    return this.#speed;
  }

  /** @returns {[number, number][]} the time ranges held in memory (ms) */
  get buffered() {
    return this.#cache?.buffered() ?? [];
  }

  /** @returns {SegmentCache | null} */
  get cache() {
    return this.#cache;
  }

  /**
   * Start playing `recording` at `startMs`, fetching only what is needed around it.
   * @param {Recording} recording
   * @param {(url: string) => Promise<Response>} fetcher
   * @param {{startMs?: number, live?: boolean}} [options] `live`: the recording is still
   *   being written (see `update`); at its end playback waits for more instead of ending
   */
  async load(recording, fetcher, { startMs = 0, live = false } = {}) {
    this.#live = live;
    this.#cache = new SegmentCache(recording.id, fetcher, () => this.#inUse());
    this.update(recording);
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    if (recording.segments.length === 0) {
      this.#setState('ended');
      return;
    }
    this.#playing = true;
    await this.seek(startMs);
    this.audioContext.resume();
  }

  /** @param {Recording} recording its newer metadata (a recording that is still growing) */
  update(recording) {
    this.#duration = recording.duration_ms;
    this.#cache?.setIndex(recording.segments);
  }

  play() {
    if (this.#playing || !this.#timer) return;
    this.#stepped = null;
    if (this.#anchorMs >= this.#duration && !this.#live) this.seek(0);
    this.#anchorClock = performance.now();
    this.#playing = true;
    this.audioContext.resume();
    this.#setState(this.#waiting ? 'loading' : 'playing');
  }

  pause() {
    if (!this.#playing) return;
    this.#anchorMs = this.position;
    this.#playing = false;
    this.#restartAudio();
    this.#setState(this.#waiting ? 'loading' : 'paused');
  }

  /** @param {number} speed one of SPEEDS; sound plays at 1x only */
  setSpeed(speed) {
    if (!SPEEDS.includes(speed)) throw new RangeError(`speed ${speed} is not one of ${SPEEDS.join(', ')}`);
    this.#anchorMs = this.position;
    this.#anchorClock = performance.now();
    this.#speed = speed;
    this.#restartAudio();
    this.#tick();
  }

  /**
   * Show the picture at `ms` (decoding from the key frame at or before it, fetching what
   * is missing first) and go on from there.
   * @param {number} ms
   */
  async seek(ms) {
    this.#stepped = null;
    await this.#seekTo(ms);
  }

  /** @param {number} ms */
  async #seekTo(ms) {
    const cache = this.#cache;
    if (!cache || cache.index.length === 0) return;
    const target = Math.max(0, Math.min(this.#duration, ms));
    const generation = ++this.#generation;
    this.#seeking = true;
    const at = cache.indexAt(target);
    if (!cache.get(at)) this.#blank();
    this.#wait(true);
    this.#anchorMs = target;
    this.#restartAudio();
    let start;
    try {
      start = await this.#keyFrameBefore(at, target);
    } catch (error) {
      if (generation === this.#generation) {
        this.#seeking = false;
        this.#fail(error);
      }
      return;
    }
    if (generation !== this.#generation) return;
    this.videoDecoder.close();
    this.videoDecoder = this.#newVideoDecoder();
    this.#video = start;
    this.#drawFrom = this.#lastVideoMs(start, target);
    this.#anchorMs = target;
    this.#restartAudio();
    this.#seeking = false;
    this.#wait(false);
    this.#tick();
  }

  /**
   * One picture forward or back, while paused; quick clicks add up.
   * @param {1 | -1} direction
   */
  step(direction) {
    this.#steps = this.#steps.then(() => this.#step(direction)).catch((error) => this.#fail(error));
    return this.#steps;
  }

  /** @param {1 | -1} direction */
  async #step(direction) {
    const from = this.#stepped ?? this.#pictureMs;
    if (this.#playing || !this.#cache || from < 0) return;
    const generation = this.#generation;
    const ms = direction > 0 ? await this.#nextPictureMs(from) : await this.#previousPictureMs(from);
    if (ms === null || generation !== this.#generation || this.#playing) return;
    this.#stepped = ms;
    await this.#seekTo(ms);
  }

  close() {
    clearInterval(this.#timer);
    this.#timer = 0;
    this.#generation++;
    this.#cache?.clear();
    for (const codec of [this.videoDecoder, this.audioDecoder]) if (codec.state !== 'closed') codec.close();
    this.audioContext.close();
  }

  /**
   * What the cache must keep: the play position's segment, the two before it (its key
   * frame is at most 3 s back) and, unless a seek is moving it, the decoder's.
   */
  #inUse() {
    const center = this.#cache.indexAt(this.position);
    const pinned = new Set();
    for (let i = Math.max(0, center - 2); i <= center; i++) pinned.add(i);
    if (!this.#seeking) pinned.add(this.#video.seg);
    return { center, pinned };
  }

  /**
   * The cursor of the last key frame at or before `target`, fetching the segments it needs.
   * @param {number} at the index of the segment playing at `target`
   * @param {number} target ms
   * @returns {Promise<Cursor>}
   */
  async #keyFrameBefore(at, target) {
    for (let seg = at; seg >= Math.max(0, at - KEY_FRAME_SEARCH); seg--) {
      const { video } = await this.#cache.load(seg);
      for (let next = video.length - 1; next >= 0; next--) {
        if (video[next].key && video[next].ms <= target) return { seg, next };
      }
    }
    return { seg: at, next: 0 }; // no key frame: undecodable pictures are not drawn
  }

  /** @param {Cursor} from @param {number} target @returns {number} the last video time at or before target */
  #lastVideoMs(from, target) {
    let last = target;
    for (let seg = from.seg, next = from.next; ; next++) {
      const video = this.#cache.get(seg)?.video;
      if (!video) return last;
      if (next >= video.length) {
        seg++;
        next = -1;
        continue;
      }
      if (video[next].ms > target) return last;
      last = video[next].ms;
    }
  }

  /** @param {number} from ms of a picture @returns {Promise<number | null>} the time of the picture after it */
  async #nextPictureMs(from) {
    for (let seg = this.#cache.indexAt(from); seg < this.#cache.index.length; seg++) {
      const found = (await this.#cache.load(seg)).video.find((frame) => frame.ms > from);
      if (found) return found.ms;
    }
    return null;
  }

  /** @param {number} from ms of a picture @returns {Promise<number | null>} the time of the picture before it */
  async #previousPictureMs(from) {
    for (let seg = this.#cache.indexAt(from); seg >= 0; seg--) {
      const found = (await this.#cache.load(seg)).video.findLast((frame) => frame.ms < from);
      if (found) return found.ms;
    }
    return null;
  }

  #newVideoDecoder() {
    const decoder = new VideoDecoder({
      output: (picture) => {
        const ms = picture.timestamp / 1000;
        if (ms >= this.#drawFrom) this.#draw(picture, ms);
        picture.close();
      },
      error: () => {},
    });
    decoder.configure({ codec: 'vp8' });
    return decoder;
  }

  /** @param {VideoFrame} picture @param {number} ms */
  #draw(picture, ms) {
    const { canvas } = this.view;
    if (canvas.width !== picture.displayWidth || canvas.height !== picture.displayHeight) {
      canvas.width = picture.displayWidth;
      canvas.height = picture.displayHeight;
    }
    this.context2d.drawImage(picture, 0, 0);
    this.#setPicture(ms);
    this.#decoded++;
  }

  /** No picture: what was shown belongs to another time. */
  #blank() {
    this.context2d.fillStyle = '#000';
    this.context2d.fillRect(0, 0, this.view.canvas.width, this.view.canvas.height);
    this.#setPicture(-1);
  }

  /** @param {number} ms the time of the picture on the canvas now, -1 for none */
  #setPicture(ms) {
    this.#pictureMs = ms;
    this.view.element.dataset.pictureMs = String(ms);
  }

  /** @param {boolean} waiting the clock stands while the frames due are fetched */
  #wait(waiting) {
    if (waiting === this.#waiting) return;
    if (waiting) this.#anchorMs = this.position;
    else this.#anchorClock = performance.now();
    this.#waiting = waiting;
    this.#setState(waiting ? 'loading' : this.#playing ? 'playing' : 'paused');
  }

  /**
   * @param {Cursor} cursor
   * @param {'video' | 'audio'} kind
   * @returns {Frame | null | undefined} the frame at the cursor, null at the end, undefined while not fetched
   */
  #peek(cursor, kind) {
    const index = this.#cache.index;
    for (;;) {
      if (cursor.seg >= index.length) return null;
      const segment = this.#cache.get(cursor.seg);
      if (!segment) return undefined;
      if (cursor.next < segment[kind].length) return segment[kind][cursor.next];
      cursor.seg++;
      cursor.next = 0;
    }
  }

  #tick() {
    if (!this.#cache) return;
    this.#prefetch();
    const now = this.position;
    const video = this.#peek(this.#video, 'video');
    if (this.#playing && !this.#waiting) {
      if (video === undefined && this.#cache.index[this.#video.seg].start_ms <= now) this.#wait(true);
      else if (video === null && now >= this.#duration) {
        this.#anchorMs = this.#duration;
        this.#anchorClock = performance.now();
        if (!this.#live) {
          this.#playing = false;
          this.#setState('ended');
        }
      }
    } else if (this.#waiting && !this.#seeking && video !== undefined) {
      this.#wait(false);
    }
    this.#show(now);
    if (!this.#pumping && !this.#waiting) this.#pump(now);
  }

  /** Fetch the segments ahead of the play position (more at higher speed), one at a time. */
  #prefetch() {
    const cache = this.#cache;
    const here = cache.indexAt(this.position);
    const ahead = Math.min(cache.limit - 4, 2 + Math.ceil(this.#speed * 1.5));
    const wanted = [this.#video.seg];
    for (let i = here; i <= here + ahead && i < cache.index.length; i++) wanted.push(i);
    if (wanted.some((i) => cache.loading(i))) return;
    const missing = wanted.find((i) => i < cache.index.length && !cache.get(i));
    if (missing !== undefined) cache.load(missing).catch((error) => this.#fail(error));
  }

  /** @param {number} now */
  #show(now) {
    const { dataset } = this.view.element;
    dataset.position = String(Math.round(now));
    dataset.speed = String(this.#speed);
    dataset.decoded = String(this.#decoded);
    dataset.audio = String(this.#audioScheduled);
    dataset.undecryptable = String(this.#undecryptable);
    dataset.cached = String(this.#cache.size);
    dataset.cachedMost = String(this.#cache.mostHeld);
    this.view.onTick?.(this);
  }

  /** Decrypt and decode, in order, the video due by `now` and the audio due a little later. */
  async #pump(now) {
    this.#pumping = true;
    const generation = this.#generation;
    try {
      while (generation === this.#generation) {
        const video = this.#peek(this.#video, 'video');
        const audio = this.#playing && this.#speed === 1 ? this.#peek(this.#audio, 'audio') : null;
        const videoDue = video && video.ms <= now;
        const audioDue = audio && audio.ms <= now + AUDIO_LEAD_MS;
        if (!videoDue && !audioDue) break;
        const frame = videoDue && (!audioDue || video.ms <= audio.ms) ? video : audio;
        (frame === video ? this.#video : this.#audio).next++;
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
    if (!this.#playing || this.#waiting || this.#speed !== 1 || at < this.audioContext.currentTime) {
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
    if (!this.#cache || this.#cache.index.length === 0) return;
    const from = this.#anchorMs;
    const seg = this.#cache.indexAt(from);
    const frames = this.#cache.get(seg)?.audio ?? [];
    const next = frames.findIndex((frame) => frame.ms >= from);
    this.#audio = { seg, next: next < 0 ? frames.length : next };
  }

  /** @param {Error} error */
  #fail(error) {
    this.#playing = false;
    this.view.element.dataset.error = error.message;
    this.#setState('error');
  }

  /** @param {string} state */
  #setState(state) {
    this.view.element.dataset.state = state;
    this.view.onTick?.(this);
  }
}
