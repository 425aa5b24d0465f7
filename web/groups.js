/**
 * The sidebar's groups: named groups of up to four camera users, shared by the
 * organisation's operators (server: /api/groups; changes arrive live on the stream-list
 * socket). Camera users are dragged here from the stream list. The group shown is kept
 * for this tab in sessionStorage, so a reload shows it again.
 *
 * Test hooks: `.group[data-group-id]` with `.group-name` (click: show the group),
 * `.group-member[data-member]`, `.group-rename`, `.group-delete`, `#new-group`
 * (drop zone and form), `#groups-message` (refusals, in the server's words).
 */
import { callApi } from './api.js';
import { button, el, showText } from './dom.js';

export const CAMERA_TYPE = 'application/x-bwlive-camera';
const SHOWN_KEY = 'bwlive.console.group';
const MAX_MEMBERS = 4;

/** @typedef {import('./streams.js').Group} Group */

export class GroupsPanel {
  /** @type {Group[]} */
  groups = [];
  /** @type {string | null} the group shown in the grid */
  activeId = null;
  /** @type {string | null} the group shown before a reload, until the list arrives */
  #restore = readShown();

  #list;
  #message;
  #onShow;
  #liveCameras = new Map();
  #updates = 0;

  /**
   * @param {object} parts
   * @param {HTMLElement} parts.list the <ul> of groups
   * @param {HTMLFormElement} parts.form the new-group form (also a drop zone)
   * @param {HTMLElement} parts.message where refusals are shown
   * @param {(group: Group | null) => void} onShow a group was picked to fill the grid
   */
  constructor({ list, form, message }, onShow) {
    this.#list = list;
    this.#message = message;
    this.#onShow = onShow;
    form.onsubmit = (event) => {
      event.preventDefault();
      const input = form.elements.namedItem('name');
      this.#run(() => callApi('POST', '/api/groups', { name: input.value })).then((ok) => {
        if (ok) input.value = '';
      });
    };
    acceptCameras(form, (camera) =>
      this.#run(() => callApi('POST', '/api/groups', { name: this.#freeName(camera), members: [camera] })),
    { operatorOnly: true });
  }

  /** Load the groups; a list pushed while the request ran is newer and wins. */
  async load() {
    const before = this.#updates;
    try {
      const { groups } = await callApi('GET', '/api/groups');
      if (this.#updates === before) this.set(groups);
    } catch (error) {
      this.#say(error.message);
    }
  }

  /**
   * The organisation's groups, as last loaded or pushed; the group shown before a reload
   * is shown again, a deleted one no longer.
   * @param {Group[]} groups
   */
  set(groups) {
    this.#updates += 1;
    this.groups = groups;
    if (this.#restore) {
      this.activeId = this.#restore;
      this.#restore = null;
    }
    if (this.activeId && !groups.some((group) => group.id === this.activeId)) this.activeId = null;
    writeShown(this.activeId);
    this.#render();
  }

  /** @returns {Group | null} */
  get active() {
    return this.groups.find((group) => group.id === this.activeId) ?? null;
  }

  /**
   * @param {Map<string, 'live'|'lost'>} cameras the camera users streaming now, and whether
   *   their camera went silent (its dot then says so, as the tile does)
   */
  setLive(cameras) {
    this.#liveCameras = cameras;
    this.#render();
  }

  /** @param {string | null} id */
  #show(id) {
    this.activeId = id;
    this.#restore = null;
    writeShown(id);
    this.#render();
    this.#onShow(this.active);
  }

  /**
   * Run a change; a refusal is shown in the server's words.
   * @param {() => Promise<unknown>} change
   * @returns {Promise<boolean>} whether it was accepted
   */
  async #run(change) {
    try {
      await change();
      this.#say('');
      return true;
    } catch (error) {
      this.#say(error.message);
      return false;
    }
  }

  /** @param {string} text */
  #say(text) {
    showText(this.#message, text && text.charAt(0).toUpperCase() + text.slice(1) + '.');
  }

  /** @param {string} camera */
  #freeName(camera) {
    const taken = new Set(this.groups.map((group) => group.name.toLowerCase()));
    for (let n = 1; ; n++) {
      const name = `Group ${n}`;
      if (!taken.has(name.toLowerCase())) return name;
    }
  }

  #render() {
    if (this.groups.length === 0) {
      this.#list.replaceChildren(
        el('li', { className: 'group-empty', textContent: 'No groups yet. Drag a camera user onto "New group".' }),
      );
      return;
    }
    this.#list.replaceChildren(...this.groups.map((group) => this.#groupElement(group)));
  }

  /** @param {Group} group */
  #groupElement(group) {
    const item = el('li', { className: 'group', dataset: { groupId: group.id }, attrs: { 'aria-current': String(group.id === this.activeId) } });
    const path = `/api/groups/${encodeURIComponent(group.id)}`;

    const name = button('group-name', group.name, () => this.#show(group.id === this.activeId ? null : group.id));
    name.title = group.id === this.activeId ? 'Back to your own tiles' : `Show ${group.name} in the grid`;
    const rename = button('group-rename', 'Rename', () => {
      const input = el('input', { className: 'group-name-input', value: group.name, attrs: { 'aria-label': 'New name' } });
      let done = false; // Enter and the blur that follows it save once
      const finish = (save) => {
        if (done) return;
        done = true;
        if (!save || input.value.trim() === group.name) this.#render();
        else this.#run(() => callApi('PATCH', path, { name: input.value })).then(() => this.#render());
      };
      const save = () => finish(true);
      input.onkeydown = (event) => {
        if (event.key === 'Enter') save();
        if (event.key === 'Escape') finish(false);
      };
      input.onblur = save;
      name.replaceWith(input);
      input.select();
    });
    const remove = button('group-delete', 'Delete', () => {
      if (remove.dataset.confirm === 'true') {
        this.#run(() => callApi('DELETE', path));
        return;
      }
      remove.dataset.confirm = 'true';
      remove.textContent = 'Delete?';
      setTimeout(() => {
        remove.dataset.confirm = 'false';
        remove.textContent = 'Delete';
      }, 3000);
    });
    rename.title = 'Rename this group';
    remove.title = 'Delete this group (click twice)';
    const head = el('div', { className: 'group-head' }, name,
      el('span', { className: 'group-count', textContent: `${group.members.length}/${MAX_MEMBERS}` }));
    const actions = el('div', { className: 'group-actions operator-only' }, rename, remove);

    const members = el('ul', { className: 'group-members' });
    for (const member of group.members) {
      const out = button(
        'group-member-remove', '×',
        () => this.#run(() => callApi('DELETE', `${path}/members/${encodeURIComponent(member)}`)),
      );
      out.setAttribute('aria-label', `Remove ${member} from ${group.name}`);
      out.classList.add('operator-only');
      const live = this.#liveCameras.get(member) === 'lost' ? 'lost' : String(this.#liveCameras.has(member));
      const item = el('li', { className: 'group-member', dataset: { member, live } }, el('span', { textContent: member }), out);
      if (live === 'lost') item.title = `${member}: camera lost`;
      members.append(item);
    }
    if (group.members.length === 0) {
      members.append(el('li', { className: 'group-hint', textContent: 'Drop camera users here' }));
    }
    item.append(head, members, actions);
    acceptCameras(item, (camera) =>
      this.#run(() => callApi('PUT', `${path}/members/${encodeURIComponent(camera)}`)),
    { operatorOnly: true });
    return item;
  }
}

/** @returns {string | null} the group this tab showed */
function readShown() {
  try {
    return sessionStorage.getItem(SHOWN_KEY);
  } catch {
    return null; // storage disabled
  }
}

/** @param {string | null} id */
function writeShown(id) {
  try {
    if (id) sessionStorage.setItem(SHOWN_KEY, id);
    else sessionStorage.removeItem(SHOWN_KEY);
  } catch {
    // storage disabled: the choice lasts until reload
  }
}

/**
 * Make an element a drop target for camera users dragged from the stream list.
 * @param {HTMLElement} target
 * @param {(camera: string) => void} onDrop
 * @param {{operatorOnly?: boolean}} [options] operatorOnly: a drop that changes groups,
 *   refused to viewers (their role is `document.body.dataset.role`, set by app.js)
 */
export function acceptCameras(target, onDrop, { operatorOnly = false } = {}) {
  target.addEventListener('dragover', (event) => {
    if (!event.dataTransfer.types.includes(CAMERA_TYPE)) return;
    if (operatorOnly && document.body.dataset.role === 'viewer') return; // a viewer cannot change groups
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    target.classList.add('drop-over');
  });
  target.addEventListener('dragleave', () => target.classList.remove('drop-over'));
  target.addEventListener('drop', (event) => {
    target.classList.remove('drop-over');
    const camera = event.dataTransfer.getData(CAMERA_TYPE);
    if (!camera) return;
    event.preventDefault();
    onDrop(camera);
  });
}
