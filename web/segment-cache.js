/**
 * The segments of one recording held in memory around the play position: fetched on
 * demand (each once, however many ask), split into frames, and bounded. At most
 * `MAX_SEGMENTS` are held (24 s of media; about 3 MB of ciphertext at the cameras'
 * 1 Mbit/s); beyond that the ones farthest from the play position are dropped, never the
 * ones the decoder is using.
 *
 * Segments are found by the recording's index (`segments: [{seq, start_ms, end_ms}]`,
 * docs/RECORDINGS.md), which may grow while the recording is still being written.
 */
export const MAX_SEGMENTS = 12;

const KIND = Object.freeze({ 0: 'video', 1: 'audio' }); // camera data: the markers bring it
const HEADER_BYTES = 10;

/**
 * @typedef {{kind: 'video'|'audio', ms: number, key: boolean, data: Uint8Array}} Frame
 * @typedef {{seq: number, start_ms: number, end_ms: number}} SegmentInfo
 * @typedef {{video: Frame[], audio: Frame[]}} Segment
 */

/**
 * Split a segment body (the wire form) into its video and audio frames.
 * @param {ArrayBuffer} buffer
 * @returns {Segment}
 */
export function parseSegment(buffer) {
  const view = new DataView(buffer);
  const segment = { video: [], audio: [] };
  for (let offset = 0; offset + HEADER_BYTES <= buffer.byteLength; ) {
    const kind = KIND[view.getUint8(offset)];
    const key = (view.getUint8(offset + 1) & 1) === 1;
    const ms = view.getUint32(offset + 2);
    const length = view.getUint32(offset + 6);
    offset += HEADER_BYTES;
    if (kind) segment[kind].push({ kind, ms, key, data: new Uint8Array(buffer, offset, length) });
    offset += length;
  }
  return segment;
}

export class SegmentCache {
  /** @type {SegmentInfo[]} */ #index = [];
  /** @type {Map<number, Segment>} by position in the index */ #held = new Map();
  /** @type {Map<number, Promise<Segment>>} */ #pending = new Map();
  #mostHeld = 0;

  /**
   * @param {string} recordingId
   * @param {(url: string) => Promise<Response>} fetcher
   * @param {() => {center: number, pinned: Set<number>}} where what the player is using now
   * @param {number} [limit]
   */
  constructor(recordingId, fetcher, where, limit = MAX_SEGMENTS) {
    this.recordingId = recordingId;
    this.fetcher = fetcher;
    this.where = where;
    this.limit = limit;
  }

  /** @param {SegmentInfo[]} segments the recording's index (it grows while recording) */
  setIndex(segments) {
    this.#index = segments;
  }

  /** @returns {SegmentInfo[]} */
  get index() {
    return this.#index;
  }

  /** @returns {number} segments held now */
  get size() {
    return this.#held.size;
  }

  /** @returns {number} the most segments ever held at once */
  get mostHeld() {
    return this.#mostHeld;
  }

  /** @returns {number} frames held now */
  get frames() {
    let count = 0;
    for (const segment of this.#held.values()) count += segment.video.length + segment.audio.length;
    return count;
  }

  /**
   * @param {number} ms
   * @returns {number} the index of the segment playing at `ms` (the last one starting at or before it)
   */
  indexAt(ms) {
    let low = 0;
    let high = this.#index.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.#index[middle].start_ms <= ms) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /** @param {number} i @returns {Segment | undefined} the segment if held */
  get(i) {
    return this.#held.get(i);
  }

  /**
   * The segment, fetched unless held.
   * @param {number} i
   * @returns {Promise<Segment>}
   */
  load(i) {
    const held = this.#held.get(i);
    if (held) return Promise.resolve(held);
    let pending = this.#pending.get(i);
    if (!pending) {
      pending = this.#fetch(i).finally(() => this.#pending.delete(i));
      this.#pending.set(i, pending);
    }
    return pending;
  }

  /** @returns {boolean} whether segment `i` is being fetched */
  loading(i) {
    return this.#pending.has(i);
  }

  /** @returns {[number, number][]} the time ranges held (ms), merged */
  buffered() {
    const ranges = [];
    for (const i of [...this.#held.keys()].sort((a, b) => a - b)) {
      const { start_ms: start, end_ms: end } = this.#index[i];
      const last = ranges[ranges.length - 1];
      if (last && i - 1 === last[2]) {
        last[1] = end;
        last[2] = i;
      } else ranges.push([start, end, i]);
    }
    return ranges.map(([start, end]) => [start, end]);
  }

  clear() {
    this.#held.clear();
  }

  /** @param {number} i */
  async #fetch(i) {
    const { seq } = this.#index[i];
    const response = await this.fetcher(`/api/recordings/${encodeURIComponent(this.recordingId)}/segments/${seq}`);
    if (!response.ok) throw new Error(`segment ${seq} could not be fetched (${response.status})`);
    const segment = parseSegment(await response.arrayBuffer());
    this.#held.set(i, segment);
    this.#evict();
    this.#mostHeld = Math.max(this.#mostHeld, this.#held.size);
    return segment;
  }

  /** Drop the segments farthest from the play position until the bound holds. */
  #evict() {
    if (this.#held.size <= this.limit) return;
    const { center, pinned } = this.where();
    const far = [...this.#held.keys()].filter((i) => !pinned.has(i)).sort((a, b) => Math.abs(b - center) - Math.abs(a - center));
    for (const i of far.slice(0, this.#held.size - this.limit)) this.#held.delete(i);
  }
}
