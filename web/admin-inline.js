/**
 * Inline steps for the admin tables: a confirmation row under a row before a destructive
 * action ("Are you sure? …" Yes / Cancel), and renaming a name cell in place.
 *
 * Test hooks: `.confirm-step` rows with `button.confirm-yes` / `button.confirm-no`;
 * `form.rename` with `input[name=name]`.
 */
import { button, el } from './dom.js';

/**
 * Put a confirmation row under `line`; `act` runs on Yes (once).
 * @param {HTMLTableRowElement} line
 * @param {string | (string | Node)[]} question e.g. 'Delete profile Patrol?' (or text and inputs)
 * @param {string} yes the Yes button's text
 * @param {() => Promise<void>} act
 */
export function confirmUnder(line, question, yes, act) {
  if (line.nextElementSibling?.classList.contains('confirm-step')) line.nextElementSibling.remove();
  const yesButton = button('primary confirm-yes', yes, () => {
    yesButton.disabled = true;
    act();
  });
  const step = el('tr', { className: 'confirm-step' },
    el('td', { colSpan: line.cells.length }, el('p', {}, 'Are you sure? ', ...[question].flat()), yesButton, ' ',
      button('quiet confirm-no', 'Cancel', () => step.remove())));
  line.after(step);
}

/**
 * A cell with a name and a Rename button that turns it into a small form.
 * @param {string} name
 * @param {(name: string) => Promise<void>} save
 */
export function renamableCell(name, save) {
  const cell = el('td', {});
  const show = () => cell.replaceChildren(name, ' ', button('quiet small rename-start', 'Rename', edit));
  const edit = () => {
    const input = el('input', { name: 'name', value: name, required: true });
    const form = el('form', { className: 'rename' }, input, ' ', el('button', { className: 'quiet small', textContent: 'Save' }),
      ' ', button('quiet small', 'Cancel', show));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      save(input.value);
    });
    cell.replaceChildren(form);
    input.focus();
  };
  show();
  return cell;
}
