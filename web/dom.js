/** DOM helpers shared by every page: creating elements, setting text, showing and hiding. */

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  return document.getElementById(id);
}

/**
 * A new element: `props` are assigned as properties (`className`, `textContent`, `type`,
 * `title`, `onclick`, …) except `dataset` (data attributes) and `attrs` (attributes such
 * as `aria-pressed`); `children` (nodes or strings) are appended.
 * @param {string} tag
 * @param {{dataset?: Record<string, string>, attrs?: Record<string, string>, [prop: string]: any}} [props]
 * @param {...(Node | string)} children
 * @returns {HTMLElement}
 */
export function el(tag, { dataset, attrs, ...props } = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  Object.assign(node.dataset, dataset);
  for (const [name, value] of Object.entries(attrs ?? {})) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/**
 * A button (type button) with a class, a text and a click handler.
 * @param {string} className
 * @param {string} text
 * @param {(event: MouseEvent) => void} onclick
 */
export function button(className, text, onclick) {
  return el('button', { type: 'button', className, textContent: text, onclick });
}

/**
 * A table row; each cell is a ready <td>, or a text or node put in a new one.
 * @param {(string | Node)[]} cells
 * @param {object} [props] the row's, as for {@link el}
 */
export function row(cells, props = {}) {
  const td = (content) => (content instanceof HTMLTableCellElement ? content : el('td', {}, content));
  return el('tr', props, ...cells.map(td));
}

/**
 * Show `text` in the element, or hide the element when there is none.
 * @param {HTMLElement} node
 * @param {string | null | undefined} text
 */
export function showText(node, text) {
  node.textContent = text ?? '';
  node.hidden = !text;
}

/**
 * A form's message line (`.message`): the text, styled as good news when `ok`.
 * @param {HTMLElement} node
 * @param {string} text
 * @param {boolean} [ok]
 */
export function say(node, text, ok = false) {
  node.textContent = text;
  node.className = ok ? 'message ok' : 'message';
}
