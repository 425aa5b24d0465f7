/** Admin cards "Members" (roles, removal) and "Invite someone" (a one-use link). */
import { ApiError, callApi } from './api.js';
import { byId, el, row, say } from './dom.js';

const ROLES = ['viewer', 'operator', 'admin'];

/** @param {() => Promise<void>} onChange after every change (or refusal) */
export function startMembers(onChange) {
  /**
   * @param {string} userId
   * @param {'PUT'|'DELETE'} method
   * @param {object} [body]
   */
  async function change(userId, method, body) {
    try {
      await callApi(method, `/api/organisation/members/${encodeURIComponent(userId)}`, body);
      byId('members-message').textContent = '';
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      byId('members-message').textContent = error.message;
    }
    await Promise.all([showMembers(), onChange()]);
  }

  async function showMembers() {
    const { members } = await callApi('GET', '/api/organisation/members');
    byId('members').replaceChildren(
      ...members.map((member) => {
        const role = el(
          'select',
          { className: 'role', disabled: member.owner, onchange: () => change(member.id, 'PUT', { role: role.value }) },
          ...ROLES.map((name) => new Option(name, name, false, name === member.role)),
        );
        const remove = el('button', {
          className: 'quiet',
          textContent: member.owner ? 'owner' : 'Remove',
          disabled: member.owner,
          onclick: () => change(member.id, 'DELETE'),
        });
        return row([member.name, member.email, role, remove], { dataset: { userId: member.id } });
      }),
    );
  }

  byId('invite-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const message = byId('invite-message');
    let link;
    try {
      ({ link } = await callApi('POST', '/api/organisation/invitations', { email: form.get('email'), role: form.get('role') }));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      say(message, error.message);
      return;
    }
    say(message, 'Send this link to the person you invite (valid 7 days, one use):', true);
    byId('invite-link').textContent = link;
    byId('invite-link').hidden = false;
    await onChange();
  });
  return showMembers();
}
