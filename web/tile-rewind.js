/**
 * Rewinding a live tile: the last five minutes of the stream, played from its running
 * recording (whose id is the stream's) by the recordings player (recording-player.js)
 * over the live picture, which goes on underneath; "Live" returns to it at once. The
 * recording is read while it is written: its metadata is fetched again every two
 * seconds, as segments land.
 *
 * Test hooks: the tile's `.tile-rewind` button; while rewound the tile carries
 * `data-rewind="on"`, and `.tile-replay` the player's data attributes (`data-state`,
 * `data-position`, `data-picture-ms`, …) over its canvas, slider (`.tile-replay-seek`),
 * time (`.tile-replay-time`) and `.tile-live` button.
 */
import { ApiError, apiFetch, callApi } from './api.js';
import { ContentKeyError, openContentKey } from './content-key.js';
import { button, el } from './dom.js';
import { FrameCipher } from './e2ee.js';
import { RecordingPlayer } from './recording-player.js';
import { clockText } from './recording-list.js';

export const REWIND_MS = 5 * 60_000; // how far back a live tile goes
const JUMP_BACK_MS = 15_000; // where the rewind starts
const REFRESH_MS = 2_000; // a segment lands every two seconds

/**
 * Put a Rewind button into a tile's head and the replay over its picture.
 * @param {HTMLElement} tile the tile's element (`.tile-head`, `.tile-media`)
 * @param {{id: string}} stream
 * @param {import('./keystore.js').KeyRecord[]} keys the keys this browser holds
 * @returns {Rewind}
 */
export function attachRewind(tile, stream, keys) {
  const rewind = new Rewind(tile, stream.id, keys);
  tile.querySelector('.tile-ack').after(rewind.button);
  tile.querySelector('.tile-media').append(rewind.view);
  return rewind;
}

export class Rewind {
  /** @type {RecordingPlayer | null} */ #player = null;
  #timer = 0;
  #tile;
  #streamId;
  #keys;
  #parts;
  #startedAt = new Date(0);

  /**
   * @param {HTMLElement} tile
   * @param {string} streamId
   * @param {import('./keystore.js').KeyRecord[]} keys
   */
  constructor(tile, streamId, keys) {
    this.#tile = tile;
    this.#streamId = streamId;
    this.#keys = keys;
    this.button = button('tile-rewind', 'Rewind', () => this.open());
    this.button.title = 'Play the last 5 minutes from the recording';
    const canvas = el('canvas', { className: 'tile-replay-picture' });
    const seek = el('input', { type: 'range', className: 'tile-replay-seek', step: '100', attrs: { 'aria-label': 'Rewind position' } });
    const time = el('span', { className: 'tile-replay-time' });
    const live = button('tile-live', 'Live', () => this.close());
    live.title = 'Back to the live picture';
    const bar = el('div', { className: 'tile-replay-bar' }, seek, time, live);
    this.view = el('div', { className: 'tile-replay', attrs: { 'aria-label': 'Rewind' } }, canvas, bar);
    seek.oninput = () => this.#player?.seek(Number(seek.value));
    this.#parts = { canvas, seek, time };
  }

  /** Play the recording from a little before now. */
  async open() {
    if (this.#player) return;
    this.#tile.dataset.rewind = 'on';
    this.view.dataset.state = 'loading';
    let recording;
    let contentKey;
    try {
      recording = await this.#recording();
      contentKey = await openContentKey(recording.key_envelope, this.#keys, 'Recording');
    } catch (error) {
      if (!(error instanceof ApiError || error instanceof ContentKeyError)) throw error;
      return this.#say(error.message);
    }
    if (this.#tile.dataset.rewind !== 'on') return; // "Live" pressed meanwhile
    if (recording.segments.length === 0) return this.#say('Nothing is recorded yet.');
    const player = new RecordingPlayer(
      { element: this.view, canvas: this.#parts.canvas, onTick: (ticking) => this.#show(ticking) },
      new FrameCipher(contentKey),
    );
    this.#player = player;
    this.#startedAt = new Date(recording.started_at);
    this.#setRange(recording.duration_ms);
    this.#timer = setInterval(() => this.#refresh(player), REFRESH_MS);
    try {
      await player.load(recording, apiFetch, { startMs: recording.duration_ms - JUMP_BACK_MS, live: true });
    } catch (error) {
      if (this.#player === player) this.#say(error.message);
    }
  }

  /** Back to live. */
  close() {
    clearInterval(this.#timer);
    this.#player?.close();
    this.#player = null;
    delete this.#tile.dataset.rewind;
  }

  async #recording() {
    return callApi('GET', `/api/recordings/${encodeURIComponent(this.#streamId)}`);
  }

  /** @param {RecordingPlayer} player the recording grew: tell the player, move the range */
  async #refresh(player) {
    let recording;
    try {
      recording = await this.#recording();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return; // the next try may do; the player goes on with what it has
    }
    if (this.#player !== player) return;
    player.update(recording);
    this.#setRange(recording.duration_ms);
  }

  /** @param {number} duration ms recorded so far */
  #setRange(duration) {
    this.#parts.seek.min = String(Math.max(0, duration - REWIND_MS));
    this.#parts.seek.max = String(duration);
  }

  /** @param {RecordingPlayer} player */
  #show(player) {
    const { seek, time } = this.#parts;
    if (document.activeElement !== seek) seek.value = String(player.position);
    const at = new Date(this.#startedAt.getTime() + player.position).toLocaleTimeString();
    time.textContent = `−${clockText(Math.max(0, player.duration - player.position))} · ${at}`;
  }

  /** @param {string} message */
  #say(message) {
    this.view.dataset.state = 'error';
    this.#parts.time.textContent = message;
  }
}
