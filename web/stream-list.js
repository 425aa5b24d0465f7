/**
 * The sidebar's list of active streams: a button per stream (click to watch, drag onto the
 * grid or a group), who acknowledged it, a "no key" tag, and a Map button.
 *
 * Test hooks: `button.stream[data-stream-id]` (`aria-pressed`: its tile is open),
 * `.stream-ack`, `.stream-lost` (the camera went silent), `.stream-tag`, `button.stream-locate[data-stream-id]`.
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
 */
export function renderStreams(list, streams, view) {
  if (streams.length === 0) {
    list.replaceChildren(el('li', { className: 'stream-empty', textContent: 'No active streams.' }));
    return;
  }
  list.replaceChildren(...streams.map((stream) => streamItem(stream, view)));
}

/**
 * @param {Stream} stream
 * @param {Parameters<typeof renderStreams>[2]} view
 */
function streamItem(stream, { heldKeyIds, openIds, full, onOpen, onFocus, onLocate }) {
  const open = openIds.has(stream.id);
  const button = el(
    'button',
    {
      type: 'button',
      className: 'stream',
      dataset: { streamId: stream.id },
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
  const locate = el('button', {
    type: 'button',
    className: 'stream-locate',
    dataset: { streamId: stream.id },
    textContent: 'Map',
    title: `Centre the map on ${stream.camera}`,
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
