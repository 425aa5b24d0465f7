/**
 * The live map (Leaflet + Leaflet.markercluster, vendored under web/vendor/, globals `L`):
 * one marker per streaming camera that sends positions, clusters with a count, optional
 * trails of the last 30 s, and a distinct marker for a camera that lost its GPS fix.
 *
 * A camera that lost its fix stays at its last known position (also one the map only
 * learnt from the camera's "no fix" message, which carries it); a camera that went silent
 * (the stream list's `lost_at`) stays where it was last seen, marked lost.
 *
 * Test hooks: `.cam-marker[data-stream-id][data-gps=fix|lost]` (`data-camera="lost"`: the
 * camera went silent), `.cam-cluster` (its text
 * is the count), `path.cam-trail`, `.map-trails` (the toggle), tooltips `.leaflet-tooltip`.
 */
import { el } from './dom.js';

const TRAIL_MS = 30_000;
const DEFAULT_VIEW = { centre: [52.3702, 4.8952], zoom: 16 };
const { L } = globalThis;

/**
 * @typedef {import('./camera-data.js').Position} Position
 * @typedef {{camera: string, marker: L.Marker, trail: L.Polyline, points: {lat: number, lon: number, t: number}[],
 *            lost: boolean, lastFixAt: number | null, silentSince: string | null}} Entry
 */

/** An offline base layer: a plain background with a grid, for when no tile URL is set. */
const GridLayer = L.GridLayer.extend({
  createTile() {
    const tile = document.createElement('canvas');
    const size = this.getTileSize();
    tile.width = size.x;
    tile.height = size.y;
    const ctx = tile.getContext('2d');
    ctx.fillStyle = '#131922';
    ctx.fillRect(0, 0, size.x, size.y);
    ctx.strokeStyle = '#1d2530';
    ctx.lineWidth = 1;
    for (let i = size.x / 4; i < size.x; i += size.x / 4) {
      ctx.beginPath();
      ctx.moveTo(i + 0.5, 0);
      ctx.lineTo(i + 0.5, size.y);
      ctx.moveTo(0, i + 0.5);
      ctx.lineTo(size.x, i + 0.5);
      ctx.stroke();
    }
    ctx.strokeStyle = '#2a3441';
    ctx.strokeRect(0.5, 0.5, size.x, size.y);
    return tile;
  },
});

export class CameraMap {
  /** @type {L.Map} */
  map;
  /** @type {Map<string, Entry>} stream id → its marker and trail */
  entries = new Map();
  trailsShown = false;

  #clusters;
  #trails = L.layerGroup();
  #fitted = false;
  #ticker = 0;

  /**
   * @param {HTMLElement} element
   * @param {{tile_url: string, tile_attribution: string}} settings
   */
  constructor(element, settings) {
    this.map = L.map(element, { zoomControl: true, attributionControl: Boolean(settings.tile_url) });
    this.map.setView(DEFAULT_VIEW.centre, DEFAULT_VIEW.zoom);
    const base = settings.tile_url
      ? L.tileLayer(settings.tile_url, { maxZoom: 19, attribution: settings.tile_attribution })
      : new GridLayer({ maxZoom: 22 });
    base.addTo(this.map);
    L.control.scale({ imperial: false }).addTo(this.map);
    this.#clusters = L.markerClusterGroup({
      maxClusterRadius: 50,
      showCoverageOnHover: false,
      spiderfyOnMaxZoom: true,
      iconCreateFunction: (cluster) => clusterIcon(cluster),
    });
    this.#clusters.addTo(this.map);
    this.#addTrailsControl();
    this.#ticker = setInterval(() => this.#refreshTooltips(), 1000);
  }

  /** Call after the map's element became visible. */
  shown() {
    this.map.invalidateSize();
  }

  /**
   * A position (or the loss of the fix) from a camera.
   * @param {string} streamId
   * @param {string} camera
   * @param {Position} position
   */
  update(streamId, camera, position) {
    const entry = this.entries.get(streamId);
    if (position.fix) {
      this.#place(streamId, camera, position, false);
    } else if (!entry && position.last) {
      this.#place(streamId, camera, position.last, true); // its last fix, from before we listened
    } else if (entry && !entry.lost) {
      entry.lost = true;
      this.#restyle(streamId, entry);
    }
  }

  /**
   * Follow the stream list's `lost_at`: a silent camera's marker stays where it was last
   * seen, marked lost.
   * @param {string} streamId
   * @param {string | null} lostAt
   */
  setSilent(streamId, lostAt) {
    const entry = this.entries.get(streamId);
    if (!entry || entry.silentSince === lostAt) return;
    entry.silentSince = lostAt;
    this.#restyle(streamId, entry);
  }

  /**
   * @param {string} streamId
   * @param {string} camera
   * @param {{lat: number, lon: number, t: number}} fix
   * @param {boolean} lost the fix is an old one (GPS lost since)
   */
  #place(streamId, camera, fix, lost) {
    let entry = this.entries.get(streamId);
    const latLng = L.latLng(fix.lat, fix.lon);
    if (!entry) {
      const marker = L.marker(latLng, { icon: cameraIcon(streamId, camera, lost, null), title: '' });
      marker.bindTooltip('', { direction: 'top', offset: [0, -14] });
      const trail = L.polyline([], { className: 'cam-trail', weight: 4, opacity: 0.9, interactive: false });
      entry = { camera, marker, trail, points: [], lost, lastFixAt: null, silentSince: null };
      marker.options.lost = lost;
      this.entries.set(streamId, entry);
      this.#trails.addLayer(trail);
      this.#clusters.addLayer(marker);
    } else {
      entry.marker.setLatLng(latLng);
    }
    const wasLost = entry.lost;
    entry.lost = lost;
    entry.lastFixAt = fix.t;
    entry.points.push({ lat: fix.lat, lon: fix.lon, t: fix.t });
    entry.points = entry.points.filter((point) => point.t >= fix.t - TRAIL_MS);
    entry.trail.setLatLngs(entry.points.map((point) => [point.lat, point.lon]));
    if (wasLost !== lost) this.#restyle(streamId, entry);
    else this.#clusters.refreshClusters(entry.marker);
    this.#updateTooltip(entry);
    if (!this.#fitted) {
      this.#fitted = true;
      this.map.setView(latLng, DEFAULT_VIEW.zoom);
    }
  }

  /**
   * Forget cameras that stopped streaming.
   * @param {Set<string>} liveStreamIds
   */
  retain(liveStreamIds) {
    for (const [id, entry] of this.entries) {
      if (liveStreamIds.has(id)) continue;
      this.#clusters.removeLayer(entry.marker);
      this.#trails.removeLayer(entry.trail);
      this.entries.delete(id);
    }
  }

  /**
   * Centre the map on a camera; false when it has no position.
   * @param {string} streamId
   */
  centreOn(streamId) {
    const entry = this.entries.get(streamId);
    if (!entry) return false;
    this.#clusters.zoomToShowLayer(entry.marker, () => {
      this.map.panTo(entry.marker.getLatLng());
      entry.marker.openTooltip();
    });
    return true;
  }

  /**
   * Keep a camera's marker in view (a replay follows its marker), panning only when it
   * nears the edge.
   * @param {string} streamId
   */
  keepInView(streamId) {
    const entry = this.entries.get(streamId);
    if (entry) this.map.panInside(entry.marker.getLatLng(), { padding: [60, 60] });
  }

  /** @param {boolean} shown */
  setTrails(shown) {
    this.trailsShown = shown;
    if (shown) this.#trails.addTo(this.map);
    else this.#trails.remove();
    this.#trailsButton.setAttribute('aria-pressed', String(shown));
  }

  /** @type {HTMLButtonElement} */
  #trailsButton;

  #addTrailsControl() {
    const control = L.control({ position: 'topright' });
    control.onAdd = () => {
      const button = el('button', {
        type: 'button',
        className: 'map-trails',
        textContent: 'Trails (30 s)',
        title: 'Show where each camera walked in the last 30 seconds',
        attrs: { 'aria-pressed': 'false' },
        onclick: () => this.setTrails(!this.trailsShown),
      });
      L.DomEvent.disableClickPropagation(button);
      this.#trailsButton = button;
      return button;
    };
    control.addTo(this.map);
  }

  /**
   * @param {string} streamId
   * @param {Entry} entry
   */
  #restyle(streamId, entry) {
    entry.marker.setIcon(cameraIcon(streamId, entry.camera, entry.lost, entry.silentSince));
    entry.marker.options.lost = entry.lost || Boolean(entry.silentSince);
    this.#clusters.refreshClusters(entry.marker);
    this.#updateTooltip(entry);
  }

  /** @param {Entry} entry */
  #updateTooltip(entry) {
    const when = entry.lastFixAt ? new Date(entry.lastFixAt).toLocaleTimeString() : '?';
    const ago = entry.lastFixAt ? Math.max(0, Math.round((Date.now() - entry.lastFixAt) / 1000)) : null;
    let text = entry.lost
      ? `${entry.camera}: GPS lost. Position last updated ${when} (${ago} s ago)`
      : `${entry.camera}: position last updated ${when}`;
    if (entry.silentSince) text += `. Camera lost at ${new Date(entry.silentSince).toLocaleTimeString()}`;
    entry.marker.setTooltipContent(document.createTextNode(text)); // a string would be set as HTML
  }

  #refreshTooltips() {
    for (const entry of this.entries.values()) if (entry.lost || entry.silentSince) this.#updateTooltip(entry);
  }
}

/**
 * @param {string} streamId
 * @param {string} camera
 * @param {boolean} lost no GPS fix
 * @param {string | null} silentSince the camera went silent then (ISO)
 */
function cameraIcon(streamId, camera, lost, silentSince) {
  const dataset = { streamId, gps: lost ? 'lost' : 'fix', ...(silentSince ? { camera: 'lost' } : {}) };
  let label = lost ? `${camera} · no GPS` : camera;
  if (silentSince) label = `${camera} · lost ${new Date(silentSince).toLocaleTimeString()}`;
  const root = el(
    'div',
    { className: 'cam-marker', dataset },
    el('span', { className: 'cam-dot', textContent: lost || silentSince ? '!' : '' }),
    el('span', { className: 'cam-label', textContent: label }),
  );
  return L.divIcon({ html: root, className: 'cam-marker-icon', iconSize: [18, 18], iconAnchor: [9, 9] });
}

/** @param {L.MarkerCluster} cluster */
function clusterIcon(cluster) {
  const lost = cluster.getAllChildMarkers().some((marker) => marker.options.lost);
  const root = el('div', {
    className: lost ? 'cam-cluster cam-cluster-lost' : 'cam-cluster',
    textContent: String(cluster.getChildCount()),
    title: lost ? 'Some of these cameras lost GPS' : `${cluster.getChildCount()} cameras`,
  });
  return L.divIcon({ html: root, className: 'cam-cluster-icon', iconSize: [36, 36] });
}
