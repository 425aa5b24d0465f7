/**
 * The live view's grid: up to four tiles, opened from the stream list, by dropping a
 * camera user on it, or filled with a group's members (the title line then says who of
 * them is streaming). Only one tile is audible at a time.
 */
import { callApi } from './api.js';
import { state } from './console-state.js';
import { showText } from './dom.js';
import { Tile } from './tile.js';

const MAX_TILES = 4;

/** @typedef {import('./streams.js').Stream} Stream @typedef {import('./streams.js').Group} Group */

export class TileGrid {
  /** @type {Record<string, Tile>} stream id → its tile */
  tiles = {};

  #element;
  #title;
  #onChange;

  /**
   * @param {{element: HTMLElement, title: HTMLElement}} parts `#tiles` and `#grid-title`
   * @param {() => void} onChange tiles opened or closed
   */
  constructor({ element, title }, onChange) {
    this.#element = element;
    this.#title = title;
    this.#onChange = onChange;
  }

  /** No more tiles can open. */
  get full() {
    return Object.keys(this.tiles).length >= MAX_TILES;
  }

  /**
   * Open a tile for the stream, unless it has one, the grid is full or the clock is off.
   * @param {Stream} stream
   */
  open(stream) {
    if (stream.id in this.tiles || this.full || state.clock?.ok === false) return;
    const tile = new Tile(stream, state.keys, {
      onClose: (closed) => {
        delete this.tiles[closed.streamId];
        this.#layout();
      },
      onUnmute: (audible) => {
        for (const other of Object.values(this.tiles)) if (other !== audible) other.setMuted(true);
      },
      onPosition: (moved) => {
        if (moved.position) state.lastPositions[moved.streamId] = moved.position;
      },
      onAcknowledge: acknowledge,
    });
    this.tiles[stream.id] = tile;
    this.#element.append(tile.element);
    this.#layout();
    tile.open();
  }

  /**
   * Follow the stream list: acknowledgements shown, tiles of ended streams ended.
   * @param {Stream[]} streams
   */
  update(streams) {
    const byId = new Map(streams.map((stream) => [stream.id, stream]));
    for (const tile of Object.values(this.tiles)) {
      const stream = byId.get(tile.streamId);
      if (stream) tile.setAcknowledged(stream.acknowledged);
      else tile.end();
    }
  }

  /**
   * Show exactly the group's streaming members.
   * @param {Group} group
   */
  fillWith(group) {
    const members = new Set(group.members);
    for (const tile of Object.values(this.tiles)) {
      const stream = state.streams.find((candidate) => candidate.id === tile.streamId);
      if (!stream || !members.has(stream.camera)) tile.close();
    }
    for (const member of group.members) {
      const stream = state.streams.find((candidate) => candidate.camera === member);
      if (stream) this.open(stream);
    }
    this.showTitle(group);
  }

  /** @param {Group | null} group the group shown, null: the operator's own pick */
  showTitle(group) {
    if (!group) {
      showText(this.#title, null);
      return;
    }
    const live = group.members.filter((member) => state.streams.some((stream) => stream.camera === member));
    const offline = group.members.filter((member) => !live.includes(member));
    showText(
      this.#title,
      `${group.name}: ${live.length} of ${group.members.length} streaming` +
        (offline.length ? ` (not streaming: ${offline.join(', ')})` : ''),
    );
  }

  closeAll() {
    Object.values(this.tiles).forEach((tile) => tile.close());
  }

  #layout() {
    this.#element.dataset.count = String(Object.keys(this.tiles).length);
    this.#onChange();
  }
}

/**
 * The tile seals the press for the camera; the server relays it with who pressed (the
 * camera vibrates), records who and when, shows it to every operator and emits the SOC
 * event.
 * @param {Tile} tile
 */
async function acknowledge(tile) {
  try {
    const sealed = await tile.sealAcknowledgement();
    await callApi('POST', `/api/streams/${encodeURIComponent(tile.streamId)}/acknowledge`, { sealed });
  } catch (error) {
    tile.notice(`Not acknowledged: ${error.message}`);
  }
}
