/**
 * The recording's positions on the live map's Leaflet view (map.js): the camera's marker
 * and 30-second trail, replayed up to the playback position (from the start again after
 * a seek back or for another recording); the map follows the marker.
 */
import { callApi } from './api.js';
import { CameraMap } from './map.js';

export class TrailView {
  /** @type {CameraMap | null} made when the first positions arrive */
  map = null;

  #element;
  #shown = { id: null, upTo: -1 };

  /** @param {HTMLElement} element where the map goes */
  constructor(element) {
    this.#element = element;
  }

  /** Make the map once there are positions to show (and Leaflet loaded). @param {unknown[]} points */
  async ensureMap(points) {
    if (this.map || !points.length || typeof L === 'undefined') return;
    let settings = { tile_url: '', tile_attribution: '' };
    try {
      settings = await callApi('GET', '/api/console/settings');
    } catch {
      // the offline grid will do
    }
    this.map ??= new CameraMap(this.#element, settings);
    this.map.setTrails(true);
    this.map.shown();
  }

  /**
   * @param {string} id the recording's
   * @param {string} camera
   * @param {import('./recording-markers.js').Point[]} trail the recording's positions
   * @param {number} position ms into the recording
   */
  showUpTo(id, camera, trail, position) {
    if (!this.map) return;
    const points = trail.filter((point) => point.ms <= position);
    if (this.#shown.id === id && this.#shown.upTo === points.length) return;
    if (this.#shown.id !== id || points.length < this.#shown.upTo) {
      this.map.retain(new Set());
      this.#shown = { id, upTo: 0 };
    }
    for (const point of points.slice(this.#shown.upTo)) {
      this.map.update(id, camera, { lat: point.lat, lon: point.lon, fix: true, t: point.ms });
    }
    this.#shown.upTo = points.length;
    this.map.keepInView(id);
  }
}
