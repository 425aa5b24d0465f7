/**
 * The console's keyboard shortcuts: 1–9 give the keyboard's focus to tile N (in the grid's
 * order), A acknowledges the focused tile, F puts it in fullscreen (again, or Esc: back),
 * S shows its stats, ? shows or hides the list of shortcuts (Esc hides it). Keys typed into
 * a field, or with Ctrl, Alt or Meta, are left alone.
 *
 * Test hooks: `#keys-help` (the list; `hidden` when not shown), `#keys-help-open`.
 */
import { byId } from './dom.js';

/**
 * @param {import('./tile-grid.js').TileGrid} grid
 */
export function listenForKeys(grid) {
  const help = byId('keys-help');
  const toggleHelp = (shown = help.hidden) => {
    help.hidden = !shown;
  };
  byId('keys-help-open').onclick = () => toggleHelp();
  byId('keys-help-close').onclick = () => toggleHelp(false);
  addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey || typing(event.target)) return;
    const tile = grid.focused;
    const key = event.key;
    if (/^[1-9]$/.test(key)) {
      const picked = grid.ordered[Number(key) - 1];
      if (picked) grid.focus(picked);
    } else if (key === 'a' || key === 'A') {
      const ack = tile?.element.querySelector('.tile-ack');
      if (ack && !ack.disabled) ack.click();
    } else if (key === 'f' || key === 'F') {
      tile?.fullscreen();
    } else if (key === 's' || key === 'S') {
      tile?.toggleStats();
    } else if (key === '?') {
      toggleHelp();
    } else if (key === 'Escape' && !help.hidden) {
      toggleHelp(false);
    } else {
      return;
    }
    event.preventDefault();
  });
}

/** @param {EventTarget | null} target */
function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}
