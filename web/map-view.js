/**
 * The live page's two views, the tile grid and the map. The map is made when first shown
 * (with the organisation's tile settings); from then on it follows every live stream's
 * positions (positions.js).
 *
 * Test hooks: `.nav-view[data-view]` (`aria-pressed`), `#view-live`, `#view-map`.
 */
import { callApi } from './api.js';
import { state } from './console-state.js';
import { CameraMap } from './map.js';
import { PositionFeeds } from './positions.js';

const LOCATE_WAIT_MS = 10_000;

export class Views {
  /** @type {CameraMap | null} made when the map is first shown */
  map = null;

  #views;
  #buttons;
  #mapElement;
  /** @type {Set<string>} streams whose positions failed verification: kept off the map */
  #unverified = new Set();
  #feeds = new PositionFeeds(
    (stream, position) => this.map?.update(stream.id, stream.camera, position),
    (stream, error) => {
      console.warn(`map: ${stream.camera}: not verified: ${error.message}`);
      this.#unverified.add(stream.id);
      this.update();
    },
    () => state.clock,
  );

  /**
   * @param {{live: HTMLElement, map: HTMLElement}} views the views' sections
   * @param {HTMLElement} mapElement where the map goes
   */
  constructor(views, mapElement) {
    this.#views = views;
    this.#mapElement = mapElement;
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
      this.map ??= new CameraMap(this.#mapElement, settings);
      this.#feeds.follow(state.streams, state.keys);
    }
    this.map.shown();
  }

  /**
   * Show the map centred on a camera; waits for its first position if need be.
   * @param {string} streamId
   */
  async locate(streamId) {
    await this.show('map');
    const until = Date.now() + LOCATE_WAIT_MS;
    while (!this.map.centreOn(streamId) && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** The stream list changed: the map (once made) keeps to the live streams. */
  update() {
    if (!this.map) return;
    this.map.retain(new Set(state.streams.map((stream) => stream.id).filter((id) => !this.#unverified.has(id))));
    this.#feeds.follow(state.streams, state.keys);
  }

  close() {
    this.#feeds.close();
  }
}
