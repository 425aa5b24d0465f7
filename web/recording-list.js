/**
 * The recordings page's list: recordings grouped by camera user, each a button
 * (`button.recording[data-recording-id]`, `aria-pressed` while in the player).
 */
import { el } from './dom.js';

/** @typedef {{id: string, camera: string, started_at: string, duration_ms: number, state: string}} Recording */

/**
 * @param {HTMLElement} container
 * @param {Recording[]} recordings
 * @param {string | null} playing the id of the recording in the player
 * @param {(id: string, button: HTMLButtonElement) => void} onOpen
 */
export function renderRecordings(container, recordings, playing, onOpen) {
  if (recordings.length === 0) {
    container.replaceChildren(el('p', { className: 'stream-empty', textContent: 'No recordings.' }));
    return;
  }
  const byCamera = new Map();
  for (const recording of recordings) {
    if (!byCamera.has(recording.camera)) byCamera.set(recording.camera, []);
    byCamera.get(recording.camera).push(recording);
  }
  const groups = [...byCamera.keys()].sort((a, b) => a.localeCompare(b)).map((camera) => {
    const items = byCamera.get(camera).map((recording) => {
      const length = recording.state === 'complete' ? clockText(recording.duration_ms) : 'recording…';
      const button = el(
        'button',
        {
          type: 'button',
          className: 'recording',
          dataset: { recordingId: recording.id },
          attrs: { 'aria-pressed': String(recording.id === playing) },
          onclick: () => onOpen(recording.id, button),
        },
        new Date(recording.started_at).toLocaleString(),
        el('br'),
        el('small', { textContent: length }),
      );
      return el('li', {}, button);
    });
    return [el('h3', { textContent: camera }), el('ul', {}, ...items)];
  });
  container.replaceChildren(...groups.flat());
}

/** @param {number} ms as m:ss */
export function clockText(ms) {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}
