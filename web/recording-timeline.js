/**
 * The bar under a recording's seek slider: the ranges held in memory (`.timeline-buffered`)
 * and the markers (`.marker-ack` for an acknowledgement, `.marker-gps-lost` for a stretch
 * without GPS fix), each with `data-ms` (and `data-to-ms` for ranges) and a title;
 * clicking a marker seeks there. Also the time of day of a position (UTC and local).
 */
import { el } from './dom.js';

export class Timeline {
  #element;
  #buffered;
  #markers;
  #duration = 1;
  #bufferedKey = '';

  /**
   * @param {HTMLElement} element
   * @param {(ms: number) => void} onSeek
   */
  constructor(element, onSeek) {
    this.#element = element;
    this.#buffered = el('div', { className: 'timeline-layer' });
    this.#markers = el('div', { className: 'timeline-layer' });
    element.replaceChildren(this.#buffered, this.#markers);
    element.onclick = (event) => {
      const target = /** @type {HTMLElement} */ (event.target);
      if (target.classList?.contains('marker')) onSeek(Number(target.dataset.ms));
    };
  }

  /**
   * @param {number} duration ms
   * @param {import('./recording-markers.js').Markers | null} markers
   * @param {Date} startedAt
   */
  setMarkers(duration, markers, startedAt) {
    this.#duration = Math.max(1, duration);
    const spans = [];
    for (const { ms, by, at } of markers?.acknowledgements ?? []) {
      spans.push(this.#span('marker marker-ack', ms, ms, `Acknowledged by ${by} at ${timeOfDay(startedAt, ms)} (${new Date(at).toLocaleString()})`));
    }
    for (const [from, to] of markers?.gpsLost ?? []) {
      spans.push(this.#span('marker marker-gps-lost', from, to, `No GPS fix ${timeOfDay(startedAt, from)} – ${timeOfDay(startedAt, to)}`));
    }
    this.#markers.replaceChildren(...spans);
  }

  /** @param {[number, number][]} ranges held in memory (ms) */
  showBuffered(ranges) {
    const key = ranges.join(';');
    if (key === this.#bufferedKey) return;
    this.#bufferedKey = key;
    this.#buffered.replaceChildren(...ranges.map(([from, to]) => this.#span('timeline-buffered', from, to)));
  }

  /**
   * @param {string} className
   * @param {number} from ms
   * @param {number} to ms
   * @param {string} [title]
   */
  #span(className, from, to, title) {
    const span = el('span', { className, dataset: { ms: String(from), toMs: String(to) } });
    span.style.left = `${(100 * from) / this.#duration}%`;
    if (to > from) span.style.width = `${(100 * (to - from)) / this.#duration}%`;
    if (title) span.title = title;
    return span;
  }
}

/**
 * @param {Date} startedAt the recording's start
 * @param {number} ms into the recording
 * @returns {string} `HH:MM:SS UTC (HH:MM:SS local)`
 */
export function timeOfDay(startedAt, ms) {
  const at = new Date(startedAt.getTime() + ms);
  return `${at.toISOString().slice(11, 19)} UTC (${at.toLocaleTimeString()} local)`;
}
