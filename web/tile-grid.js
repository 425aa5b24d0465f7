/**
 * The live view's grid: 1×1, 2×2 (the default) or 3×3 tiles, as the operator chose (kept
 * in this browser's `localStorage`, `bwlive.console.layout`), opened from the stream list,
 * by dropping a camera user on it, or filled with a group's members (the title line then
 * says who of them is streaming). Only one tile is audible at a time. One tile has the
 * keyboard's focus (console-keys.js): number keys pick it, in the grid's order.
 *
 * Choosing a smaller layout while more tiles are open than it holds closes the last
 * opened ones (the focused tile stays), as if the operator had closed them.
 *
 * A tile the operator closed stays closed (the group view does not bring it back at the
 * next list update) until the operator opens that stream again or picks a group. Tiles of
 * lost cameras and ended streams stay until the operator closes them; in a group view a
 * new stream of the same camera user takes an ended tile's place.
 *
 * A tile follows its camera: when the device its stream came from (the serial its
 * manifest names) starts a newer stream (its node died and it published again to
 * another, or it restarted), that stream takes the tile's place in the grid, with its
 * focus and sound, without the operator doing anything.
 */
import { state } from './console-state.js';
import { showText } from './dom.js';
import { claimedDevice } from './stream-verifier.js';
import { Tile } from './tile.js';

const LAYOUT_KEY = 'bwlive.console.layout';
export const LAYOUTS = [1, 2, 3];

/** @typedef {import('./streams.js').Stream} Stream @typedef {import('./streams.js').Group} Group */

export class TileGrid {
  /** @type {Record<string, Tile>} stream id → its tile */
  tiles = {};

  #element;
  #title;
  #onChange;
  /** @type {Set<string>} streams whose tile the operator closed (not reopened by a group) */
  #dismissed = new Set();
  /** @type {number} tiles per side */
  size = 2;
  /** @type {Tile | null} the keyboard's tile */
  focused = null;

  /**
   * @param {{element: HTMLElement, title: HTMLElement}} parts `#tiles` and `#grid-title`
   * @param {() => void} onChange tiles opened or closed
   */
  constructor({ element, title }, onChange) {
    this.#element = element;
    this.#title = title;
    this.#onChange = onChange;
    const stored = Number(localStorage.getItem(LAYOUT_KEY));
    this.size = LAYOUTS.includes(stored) ? stored : 2;
    element.dataset.layout = String(this.size);
  }

  /** No more tiles can open. */
  get full() {
    return Object.keys(this.tiles).length >= this.size * this.size;
  }

  /** @returns {Tile[]} the open tiles in the grid's order */
  get ordered() {
    const byElement = new Map(Object.values(this.tiles).map((tile) => [tile.element, tile]));
    return [...this.#element.children].map((child) => byElement.get(child)).filter(Boolean);
  }

  /**
   * The operator chose a layout: `size`×`size` tiles (remembered in this browser).
   * @param {number} size 1, 2 or 3
   */
  setSize(size) {
    this.size = size;
    localStorage.setItem(LAYOUT_KEY, String(size));
    this.#element.dataset.layout = String(size);
    const extra = this.ordered.filter((tile) => tile !== this.focused).slice(size * size - (this.focused ? 1 : 0));
    for (const tile of extra) tile.close({ byOperator: true });
    this.#layout();
  }

  /**
   * Give the keyboard's focus to a tile (null: none).
   * @param {Tile | null} tile
   */
  focus(tile) {
    this.focused?.setFocused(false);
    this.focused = tile;
    tile?.setFocused(true);
    tile?.element.scrollIntoView({ block: 'nearest' });
  }

  /**
   * The operator opens a tile for the stream, unless it has one, the grid is full or the
   * clock is off.
   * @param {Stream} stream
   */
  open(stream) {
    this.#dismissed.delete(stream.id);
    this.#add(stream);
    if (this.tiles[stream.id]) this.focus(this.tiles[stream.id]);
  }

  /** @param {Stream} stream */
  #add(stream) {
    if (stream.id in this.tiles || this.full || state.clock?.ok === false) return;
    const tile = this.#make(stream);
    this.#element.append(tile.element);
    this.#layout();
    tile.open();
  }

  /**
   * A tile for the stream, in `tiles` (the caller places its element and opens it).
   * @param {Stream} stream
   * @returns {Tile}
   */
  #make(stream) {
    const tile = new Tile(stream, state.keys, {
      onClose: (closed, byOperator) => {
        delete this.tiles[closed.streamId];
        if (this.focused === closed) this.focused = null;
        if (byOperator) this.#dismissed.add(closed.streamId);
        this.#layout();
      },
      onUnmute: (audible) => {
        for (const other of Object.values(this.tiles)) if (other !== audible) other.setMuted(true);
      },
      onPosition: (moved) => {
        if (moved.position) state.lastPositions[moved.streamId] = moved.position;
      },
    }, state.clock);
    this.tiles[stream.id] = tile;
    return tile;
  }

  /**
   * A newer stream of a tile's device takes that tile's place (focus and sound kept).
   * @param {Stream} stream
   */
  #followDevice(stream) {
    const device = claimedDevice(stream.manifest);
    if (!device || stream.id in this.tiles) return;
    const started = Date.parse(stream.started_at);
    const old = Object.values(this.tiles).find((tile) => tile.device === device && Date.parse(tile.startedAt) < started);
    if (!old) return;
    const tile = this.#make(stream);
    old.element.before(tile.element);
    const focused = this.focused === old;
    const muted = old.muted;
    old.close();
    if (focused) this.focus(tile);
    tile.open();
    if (!muted) tile.setMuted(false);
  }

  /**
   * Follow the stream list: a camera's newer stream in its tile, acknowledgements and
   * lost cameras shown, tiles of ended streams ended (they stay until the operator
   * closes them).
   * @param {Stream[]} streams
   */
  update(streams) {
    for (const stream of streams) this.#followDevice(stream);
    const byId = new Map(streams.map((stream) => [stream.id, stream]));
    for (const tile of Object.values(this.tiles)) {
      const stream = byId.get(tile.streamId);
      if (stream) {
        tile.setAcknowledged(stream.acknowledged);
        tile.setLost(stream.lost_at ?? null);
        tile.setHelp(stream.help_requested_at ?? null);
      } else {
        tile.end();
      }
    }
  }

  /**
   * The operator picked a group: show exactly its streaming members (tiles closed before
   * come back).
   * @param {Group} group
   */
  fillWith(group) {
    this.#dismissed.clear();
    const members = new Set(group.members);
    for (const tile of Object.values(this.tiles)) {
      const stream = state.streams.find((candidate) => candidate.id === tile.streamId);
      if (!stream || !members.has(stream.camera)) tile.close();
    }
    this.follow(group);
  }

  /**
   * The group shown changed, or the stream list did: open its members' new streams
   * (except those the operator closed), close nothing, retitle.
   * @param {Group} group
   */
  follow(group) {
    for (const member of group.members) {
      const stream = state.streams.find((candidate) => candidate.camera === member);
      if (!stream || stream.id in this.tiles || this.#dismissed.has(stream.id)) continue;
      for (const tile of Object.values(this.tiles)) {
        if (tile.camera === member && tile.state === 'ended') tile.close(); // replaced by its new stream
      }
      this.#add(stream);
    }
    this.showTitle(group);
  }

  /** @param {Group | null} group the group shown, null: the operator's own pick */
  showTitle(group) {
    if (!group) {
      showText(this.#title, null);
      return;
    }
    const streamOf = (member) => state.streams.find((stream) => stream.camera === member);
    const live = group.members.filter((member) => streamOf(member));
    const lost = live.filter((member) => streamOf(member).lost_at);
    const offline = group.members.filter((member) => !live.includes(member));
    showText(
      this.#title,
      `${group.name}: ${live.length - lost.length} of ${group.members.length} streaming` +
        (lost.length ? ` (camera lost: ${lost.join(', ')})` : '') +
        (offline.length ? ` (not streaming: ${offline.join(', ')})` : ''),
    );
  }

  closeAll() {
    Object.values(this.tiles).forEach((tile) => tile.close());
  }

  /** @param {string} reason why every tile stops (shown on each) */
  stopAll(reason) {
    Object.values(this.tiles).forEach((tile) => tile.stop(reason));
  }

  #layout() {
    this.#element.dataset.count = String(Object.keys(this.tiles).length);
    this.#onChange();
  }
}
