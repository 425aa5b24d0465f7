/**
 * The live page's two views, the tile grid and the map. Every live stream's positions are
 * followed from the start (camera-feeds.js: a data-only subscription each), so the stream
 * list knows which cameras have a position (their Map button) and the map, made when first
 * shown (with the organisation's tile settings), starts with every camera's last known
 * position.
 *
 * Test hooks: `.nav-view[data-view]` (`aria-pressed`), `#view-live`, `#view-map`.
 */
import { callApi } from './api.js';
import { state } from './console-state.js';
import { CameraMap } from './map.js';
import { CameraFeeds } from './camera-feeds.js';

export class Views {
  /** @type {CameraMap | null} made when the map is first shown */
  map = null;

  #views;
  #buttons;
  #mapElement;
  #onLocatable;
  /** @type {Map<string, import('./camera-data.js').Position>} stream id → its camera's last position message */
  #latest = new Map();
  /** @type {Set<string>} streams whose positions failed verification: kept off the map */
  #unverified = new Set();
  #feeds = new CameraFeeds({
    onMessage: (stream, message) => {
      if (message.type === 'position') this.#onPosition(stream, message.position);
    },
    onFailed: (stream, error) => {
      console.warn(`map: ${stream.camera}: not verified: ${error.message}`);
      this.#unverified.add(stream.id);
      this.update();
    },
    clock: () => state.clock,
  });

  /**
   * @param {{live: HTMLElement, map: HTMLElement}} views the views' sections
   * @param {HTMLElement} mapElement where the map goes
   * @param {() => void} onLocatable a camera's position became known for the first time
   */
  constructor(views, mapElement, onLocatable) {
    this.#views = views;
    this.#mapElement = mapElement;
    this.#onLocatable = onLocatable;
    this.#buttons = document.querySelectorAll('.nav-view');
    for (const button of this.#buttons) button.addEventListener('click', () => this.show(button.dataset.view));
  }

  /** @param {'live'|'map'} view */
  async show(view) {
    for (const [name, element] of Object.entries(this.#views)) element.hidden = name !== view;
    for (const button of this.#buttons) button.setAttribute('aria-pressed', String(button.dataset.view === view));
    if (view !== 'map') return;
    if (!this.map) {
      let settings = { tile_url: '', tile_attribution: '' };
      try {
        settings = await callApi('GET', '/api/console/settings');
      } catch {
        // the offline grid will do
      }
      if (!this.map) {
        this.map = new CameraMap(this.#mapElement, settings);
        for (const stream of state.streams) {
          const position = this.#latest.get(stream.id);
          if (position) this.map.update(stream.id, stream.camera, position);
          this.map.setSilent(stream.id, stream.lost_at ?? null);
        }
      }
    }
    this.map.shown();
  }

  /**
   * A position of the camera is known (its Map button can be used).
   * @param {string} streamId
   */
  located(streamId) {
    return streamId in state.lastPositions;
  }

  /**
   * Show the map centred on a camera.
   * @param {string} streamId
   */
  async locate(streamId) {
    await this.show('map');
    this.map.centreOn(streamId);
  }

  /** The stream list changed: follow the live streams' positions; the map marks silent cameras. */
  update() {
    this.#feeds.follow(state.streams, state.keys);
    const live = new Set(state.streams.map((stream) => stream.id).filter((id) => !this.#unverified.has(id)));
    for (const id of this.#latest.keys()) if (!live.has(id)) this.#latest.delete(id);
    for (const id of Object.keys(state.lastPositions)) if (!live.has(id)) delete state.lastPositions[id];
    if (!this.map) return;
    this.map.retain(live);
    for (const stream of state.streams) this.map.setSilent(stream.id, stream.lost_at ?? null);
  }

  close() {
    this.#feeds.close();
  }

  /**
   * @param {import('./streams.js').Stream} stream
   * @param {import('./camera-data.js').Position} position
   */
  #onPosition(stream, position) {
    this.#latest.set(stream.id, position);
    const fix = position.fix ? position : position.last;
    const first = fix && !(stream.id in state.lastPositions);
    if (fix) state.lastPositions[stream.id] = { lat: fix.lat, lon: fix.lon, accuracy: fix.accuracy, t: fix.t };
    this.map?.update(stream.id, stream.camera, position);
    if (first) this.#onLocatable();
  }
}
