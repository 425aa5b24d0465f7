/** Administration: members and roles, invitations, systems and their join codes, audit log. */
import { apiFetch, errorText, requireSignIn } from './session.js';

const $ = (id) => document.getElementById(id);
const ROLES = ['viewer', 'operator', 'admin'];

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

async function getJson(url) {
  const response = await apiFetch(url);
  if (!response.ok) throw new Error(await errorText(response));
  return response.json();
}

async function showMembers() {
  const { members } = await getJson('/api/organisation/members');
  $('members').replaceChildren(
    ...members.map((member) => {
      const row = document.createElement('tr');
      row.dataset.userId = member.id;
      const role = document.createElement('select');
      role.className = 'role';
      role.disabled = member.owner;
      role.append(...ROLES.map((name) => new Option(name, name, false, name === member.role)));
      role.addEventListener('change', () => change(member.id, { method: 'PUT', body: { role: role.value } }));
      const remove = document.createElement('button');
      remove.className = 'quiet';
      remove.textContent = member.owner ? 'owner' : 'Remove';
      remove.disabled = member.owner;
      remove.addEventListener('click', () => change(member.id, { method: 'DELETE' }));
      const roleCell = document.createElement('td');
      roleCell.append(role);
      const actions = document.createElement('td');
      actions.append(remove);
      row.append(cell(member.name), cell(member.email), roleCell, actions);
      return row;
    }),
  );
}

async function change(userId, { method, body }) {
  const response = await apiFetch(`/api/organisation/members/${encodeURIComponent(userId)}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  $('members-message').textContent = response.ok ? '' : await errorText(response);
  await Promise.all([showMembers(), showAudit()]);
}

async function showSystems() {
  const { systems } = await getJson('/api/organisation/systems');
  $('systems').replaceChildren(
    ...systems.map((system) => {
      const row = document.createElement('tr');
      row.append(cell(system.name), cell(system.key_id), cell(new Date(system.joined_at).toLocaleString()));
      return row;
    }),
  );
}

async function showAudit() {
  const { entries } = await getJson('/api/organisation/audit');
  $('audit').replaceChildren(
    ...entries.map((entry) => {
      const row = document.createElement('tr');
      const details = Object.entries(entry.details).map(([k, v]) => `${k}: ${v}`).join(', ');
      row.append(cell(new Date(entry.time).toLocaleString()), cell(entry.user_name ?? ''), cell(entry.action), cell(details));
      return row;
    }),
  );
}

async function showLicense() {
  const state = await getJson('/api/organisation/license');
  $('license-state').textContent = `${state.ok ? 'Streaming is licensed' : 'Cameras cannot stream'}: ${state.reason}.`;
  $('license-state').className = state.ok ? 'message ok' : 'message';
  $('licenses').replaceChildren(
    ...state.licenses.map((license) => {
      const row = document.createElement('tr');
      row.append(cell(license.id), cell(String(license.cameras)), cell(`${license.valid_from} – ${license.valid_until}`));
      return row;
    }),
  );
}

$('license-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const response = await apiFetch('/api/organisation/licenses', {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain' },
    body: new FormData(event.target).get('license'),
  });
  $('license-message').textContent = response.ok ? '' : await errorText(response);
  if (response.ok) event.target.reset();
  await Promise.all([showLicense(), showAudit()]);
});

$('invite-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await apiFetch('/api/organisation/invitations', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: form.get('email'), role: form.get('role') }),
  });
  if (!response.ok) {
    $('invite-message').textContent = await errorText(response);
    return;
  }
  const { link } = await response.json();
  $('invite-message').textContent = 'Send this link to the person you invite (valid 7 days, one use):';
  $('invite-message').className = 'message ok';
  $('invite-link').textContent = link;
  $('invite-link').hidden = false;
  await showAudit();
});

$('join-code').addEventListener('click', async () => {
  const response = await apiFetch('/api/organisation/join-codes', { method: 'POST' });
  if (!response.ok) return;
  const { code, expires_at: expires } = await response.json();
  $('code').textContent = `bwlive system join --server ${location.origin} --code ${code} --name NAME   (until ${new Date(expires).toLocaleString()})`;
  $('code').hidden = false;
});

requireSignIn().then(async (session) => {
  if (!session) return;
  $('organisation').textContent = session.organisation.name;
  if (session.role !== 'admin') {
    $('banner').textContent = `Administration needs the admin role; you are ${session.role} in ${session.organisation.name}.`;
    $('banner').hidden = false;
    return;
  }
  $('admin').hidden = false;
  await Promise.all([showLicense(), showMembers(), showSystems(), showAudit()]);
});
