/**
 * Admin cards "Members" (roles, removal, a one-time password-reset link, whether each has
 * two-factor sign-in and resetting it for one who lost their authenticator: a second
 * click confirms) and "Invite someone" (a one-use link).
 */
import { ApiError, callApi } from './api.js';
import { byId, el, row, say, showText } from './dom.js';
import { callSaying } from './form-call.js';

const ROLES = ['viewer', 'operator', 'admin'];

export function startMembers() {
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
    await showMembers();
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
        const reset = el('button', { className: 'quiet reset', textContent: 'Password reset link', onclick: () => resetLink(member) });
        const twoFactor = member.two_factor ? 'on' : 'off';
        const actions = el('td', { className: 'actions' }, reset);
        if (member.two_factor) actions.append(resetTwoFactorButton(member));
        actions.append(remove);
        return row([member.name, member.email, role, twoFactor, actions], {
          dataset: { userId: member.id },
        });
      }),
    );
  }

  /** @param {{id: string, name: string}} member */
  function resetTwoFactorButton(member) {
    const button = el('button', { className: 'quiet reset-two-factor', textContent: 'Reset two-factor' });
    button.onclick = async () => {
      if (button.dataset.confirm !== 'true') {
        button.dataset.confirm = 'true';
        button.textContent = `Really reset ${member.name}'s two-factor?`;
        return;
      }
      const message = byId('members-message');
      const path = `/api/organisation/members/${encodeURIComponent(member.id)}/two-factor`;
      if (await callSaying(message, 'DELETE', path)) {
        say(message, `${member.name}'s two-factor sign-in is off and their sessions ended; they set it up again at their next sign-in.`, true);
        await showMembers();
      }
    };
    return button;
  }

  /** @param {{id: string, name: string}} member */
  async function resetLink(member) {
    const message = byId('members-message');
    const answer = await callSaying(message, 'POST', `/api/organisation/members/${encodeURIComponent(member.id)}/password-reset`);
    if (!answer) return;
    say(message, `Give ${member.name} this link to set a new password (valid ${answer.valid_minutes} minutes, one use):`, true);
    showText(byId('reset-link'), answer.link);
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
  });
  return showMembers();
}
