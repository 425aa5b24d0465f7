/**
 * The sidebar's list of active streams: a button per stream (click to watch, drag onto the
 * grid or a group), who acknowledged it, a "no key" tag, and a Map button.
 *
 * Test hooks: `button.stream[data-stream-id]` (`aria-pressed`: its tile is open;
 * `data-help="requested"`: its wearer asked for help), `.stream-ack`, `.stream-lost` (the
 * camera went silent), `.stream-help`, `.stream-tag`, `button.stream-locate[data-stream-id]`
 * (disabled while no position of the camera is known). The search (`#stream-search`)
 * keeps the streams whose camera user's name contains what is typed (any case); streams
 * asking for help are always listed, first.
 */
import { el } from './dom.js';
import { CAMERA_TYPE } from './groups.js';

/** @typedef {import('./streams.js').Stream} Stream */

/**
 * @param {HTMLElement} list the `<ul>`
 * @param {Stream[]} streams
 * @param {object} view
 * @param {Set<string>} view.heldKeyIds the key ids this browser holds
 * @param {Set<string>} view.openIds the streams with an open tile
 * @param {boolean} view.full no more tiles can open
 * @param {(stream: Stream) => void} view.onOpen a stream without a tile was clicked
 * @param {(stream: Stream) => void} view.onFocus a stream with a tile was clicked
 * @param {(stream: Stream) => void} view.onLocate its Map button was clicked
 * @param {(stream: Stream) => boolean} view.located a position of its camera is known
 * @param {string} view.search what the operator typed in the search
 */
export function renderStreams(list, streams, view) {
  if (streams.length === 0) {
    list.replaceChildren(el('li', { className: 'stream-empty', textContent: 'No active streams.' }));
    return;
  }
  const wanted = view.search.trim().toLocaleLowerCase();
  const shown = streams
    .filter((stream) => stream.help_requested_at || stream.camera.toLocaleLowerCase().includes(wanted))
    .sort((a, b) => Number(Boolean(b.help_requested_at)) - Number(Boolean(a.help_requested_at)));
  if (shown.length === 0) {
    list.replaceChildren(el('li', { className: 'stream-empty', textContent: `No active stream matches “${view.search.trim()}”.` }));
    return;
  }
  list.replaceChildren(...shown.map((stream) => streamItem(stream, view)));
}

/**
 * @param {Stream} stream
 * @param {Parameters<typeof renderStreams>[2]} view
 */
function streamItem(stream, { heldKeyIds, openIds, full, onOpen, onFocus, onLocate, located }) {
  const open = openIds.has(stream.id);
  const button = el(
    'button',
    {
      type: 'button',
      className: 'stream',
      dataset: { streamId: stream.id, ...(stream.help_requested_at ? { help: 'requested' } : {}) },
      attrs: { 'aria-pressed': String(open) },
      disabled: full && !open,
      draggable: true,
      title: 'Click to watch; drag onto the grid or a group',
      ondragstart: (event) => {
        event.dataTransfer.setData(CAMERA_TYPE, stream.camera);
        event.dataTransfer.effectAllowed = 'copy';
      },
      onclick: () => (open ? onFocus(stream) : onOpen(stream)),
    },
    el('span', { className: 'stream-camera', textContent: stream.camera }),
    el('time', { className: 'stream-started', dateTime: stream.started_at, textContent: `since ${formatTime(stream.started_at)}` }),
  );
  if (stream.help_requested_at) {
    button.append(el('span', {
      className: 'stream-help',
      textContent: `HELP ${formatTime(stream.help_requested_at)}`,
      title: `${stream.camera} asked for help at ${formatTime(stream.help_requested_at)}: open the tile and acknowledge`,
    }));
  }
  const ack = stream.acknowledged;
  if (ack) {
    button.append(el('span', {
      className: 'stream-ack',
      textContent: `✓ ${ack.by} ${formatTime(ack.at)}`,
      title: `Acknowledged by ${ack.by} at ${formatTime(ack.at)}`,
    }));
  }
  if (stream.lost_at) {
    button.append(el('span', {
      className: 'stream-lost',
      textContent: `camera lost ${formatTime(stream.lost_at)}`,
      title: `No media from this camera since ${formatTime(stream.lost_at)}`,
    }));
  }
  if (!heldKeyIds.has(stream.key_envelope?.kid)) {
    button.append(el('span', { className: 'stream-tag', textContent: 'no key', title: 'This browser holds no key for this stream' }));
  }
  const known = located(stream);
  const locate = el('button', {
    type: 'button',
    className: 'stream-locate',
    dataset: { streamId: stream.id },
    textContent: 'Map',
    disabled: !known,
    title: known ? `Centre the map on ${stream.camera}` : `No position of ${stream.camera}'s camera yet`,
    onclick: () => onLocate(stream),
  });
  return el('li', { className: 'stream-item' }, button, locate);
}

/** @param {string} iso */
function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const today = date.toDateString() === new Date().toDateString();
  return today
    ? date.toLocaleTimeString()
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
