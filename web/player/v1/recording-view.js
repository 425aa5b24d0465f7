/**
 * A recording in the embedded player: the console's recordings player
 * (recording-player.js: segments fetched on demand, decrypted and decoded in the page)
 * with a play/pause button, a position slider and the time, fetched with the player's
 * viewer token. Its element carries the recordings player's `data-state` (loading,
 * paused, playing, ended, error) and `data-picture-ms`; CSS parts `recording`,
 * `picture`, `controls`, `button`, `play`, `seek`, `time`.
 */
import { openContentKey } from '../../content-key.js';
import { button, el } from '../../dom.js';
import { FrameCipher } from '../../e2ee.js';
import { RecordingPlayer } from '../../recording-player.js';
import { clockText } from '../../recording-list.js';

export class RecordingView {
  /** @type {HTMLElement} */
  element;
  /** @type {RecordingPlayer | null} */
  player = null;
  #parts;

  constructor() {
    const picture = el('canvas', { className: 'recording-picture', attrs: { part: 'picture' } });
    const play = button('recording-play', 'Pause', () => this.toggle());
    play.setAttribute('part', 'button play');
    const seek = el('input', { type: 'range', className: 'recording-seek', step: '100', min: '0', attrs: { part: 'seek', 'aria-label': 'Position' } });
    const time = el('span', { className: 'recording-time', attrs: { part: 'time' } });
    seek.oninput = () => this.player?.seek(Number(seek.value));
    const controls = el('div', { className: 'recording-controls', attrs: { part: 'controls' } }, play, seek, time);
    this.element = el('div', { className: 'recording', attrs: { part: 'recording' } }, picture, controls);
    this.#parts = { picture, play, seek, time };
  }

  /**
   * Fetch the recording, open its key and play it from the start.
   * @param {string} recordingId
   * @param {import('../../keystore.js').KeyRecord[]} keys
   * @param {import('../../api.js').Api} api
   * @returns {Promise<{id: string, camera: string}>} the recording
   * @throws {import('../../api.js').ApiError | import('../../content-key.js').ContentKeyError | TypeError}
   */
  async open(recordingId, keys, api) {
    const recording = await api.call('GET', `/api/recordings/${encodeURIComponent(recordingId)}`);
    const contentKey = await openContentKey(recording.key_envelope, keys, 'Recording');
    this.#parts.seek.max = String(recording.duration_ms);
    this.player = new RecordingPlayer(
      { element: this.element, canvas: this.#parts.picture, onTick: (player) => this.#show(player) },
      new FrameCipher(contentKey),
    );
    await this.player.load(recording, (url, init) => api.fetch(url, init));
    return recording;
  }

  /** Play or pause. */
  toggle() {
    if (this.player?.playing) this.player.pause();
    else this.player?.play();
  }

  close() {
    this.player?.close();
    this.player = null;
  }

  /** @param {RecordingPlayer} player */
  #show(player) {
    const { play, seek, time } = this.#parts;
    play.textContent = player.playing ? 'Pause' : 'Play';
    if (seek.getRootNode().activeElement !== seek) seek.value = String(player.position);
    time.textContent = `${clockText(player.position)} / ${clockText(player.duration)}`;
  }
}
