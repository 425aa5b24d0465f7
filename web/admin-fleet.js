/**
 * The "Cameras" card of the admin page: profiles (renamed, streaming and location
 * switches, deleted), camera users (renamed, their profile, deleted), cameras (each of one
 * system; given to another camera user; revoked), Wi-Fi networks (new password, deleted),
 * and the key changes waiting for an admin. Deleting and reassigning ask "Are you sure?"
 * first (admin-inline.js). Cameras then dock at the system (`bwlive camera dock`) to get
 * their credential and their system's key.
 *
 * Test hooks: `#fleet` (the card), `.fleet-profile[data-profile-id]` with
 * `input.streaming` / `input.location`, `.fleet-user[data-user-id]` with
 * `select.profile-of-user` and `button.pair-phone` (admin-pairing.js), `.fleet-camera[data-serial]` with `button.revoke` and
 * `button.reassign` (its step: `select.user-of-camera`), `.fleet-network[data-network-id]` with `form.network-password`;
 * `aria-busy="true"` on the card while a change is made and it is redrawn;
 * `button.delete` on each row, `button.rename-start` on names; forms `#profile-form`,
 * `#user-form`, `#camera-form` (with `select[name=system_id]`), `#network-form` (a network
 * for a camera user overrides its profile's), `#fleet-message`; `#key-changes` (rows:
 * admin-key-changes.js), `#key-changes-none`, `#key-change-message`.
 */
import { confirmUnder, renamableCell } from './admin-inline.js';
import { keyChangeRow } from './admin-key-changes.js';
import { pairButton } from './admin-pairing.js';
import { ApiError, callApi } from './api.js';
import { button, el, row, say } from './dom.js';

const card = el('section', { className: 'card', id: 'fleet' });
card.innerHTML = `
  <h2>Cameras</h2>
  <table><thead><tr><th>Profile</th><th>Streaming</th><th>Location</th><th></th></tr></thead><tbody id="fleet-profiles"></tbody></table>
  <form class="row" id="profile-form">
    <label>New profile <input name="name" required></label>
    <button class="quiet" type="submit">Add profile</button>
  </form>
  <table><thead><tr><th>Camera user</th><th>Profile</th><th></th><th></th></tr></thead><tbody id="fleet-users"></tbody></table>
  <form class="row" id="user-form">
    <label>Camera user <input name="name" required></label>
    <label>Profile <select name="profile_id" class="profile-choice"></select></label>
    <button class="quiet" type="submit">Add camera user</button>
  </form>
  <table><thead><tr><th>Serial</th><th>Model</th><th>Camera user</th><th>System</th><th>Last docked</th><th></th></tr></thead>
    <tbody id="fleet-cameras"></tbody></table>
  <form class="row" id="camera-form">
    <label>Serial <input name="serial" required></label>
    <label>Model <input name="model"></label>
    <label>Camera user <select name="camera_user_id" class="user-choice"></select></label>
    <label>System <select name="system_id" class="system-choice"></select></label>
    <button class="quiet" type="submit">Add camera</button>
  </form>
  <h3>Key changes</h3>
  <p class="hint">A camera takes its system's new key only once an admin has compared and confirmed it.</p>
  <p class="hint" id="key-changes-none">No key changes waiting.</p>
  <table id="key-changes"><thead><tr><th>Serial</th><th>Camera user</th><th>System</th><th>Old key</th><th>New key</th><th></th></tr></thead>
    <tbody></tbody></table>
  <div class="message" id="key-change-message" role="alert"></div>
  <table><thead><tr><th>Wi-Fi network</th><th>For</th><th>Password</th><th></th></tr></thead><tbody id="fleet-networks"></tbody></table>
  <form class="row" id="network-form">
    <label>Network (SSID) <input name="ssid" required></label>
    <label>Password <input name="password" type="password" autocomplete="off"></label>
    <label>For <select name="owner" class="owner-choice"></select></label>
    <button class="quiet" type="submit">Add network</button>
  </form>
  <div class="message" id="fleet-message" role="alert"></div>`;
const $ = (id) => card.querySelector(`#${id}`);

/**
 * Add the card to the page.
 * @param {HTMLElement} page where it goes
 */
export function startFleet(page) {
  for (const [form, url, body] of [['profile-form', '/api/fleet/profiles', (f) => f],
    ['user-form', '/api/fleet/camera-users', (f) => f], ['camera-form', '/api/fleet/cameras', cameraBody],
    ['network-form', '/api/fleet/networks', networkBody]]) {
    $(form).addEventListener('submit', async (event) => {
      event.preventDefault();
      await send(url, 'POST', body(Object.fromEntries(new FormData(event.target))));
      event.target.reset();
    });
  }
  page.append(card);
  return showFleet();
}

/** @param {string} className @param {boolean} checked @param {(checked: boolean) => void} onChange */
function toggle(className, checked, onChange) {
  const box = el('input', { type: 'checkbox', className, checked });
  box.addEventListener('change', () => onChange(box.checked));
  return box;
}

/**
 * A change; the card is redrawn either way, then the server's refusal is shown in `message`.
 * The card is `aria-busy` until then; it then fires `fleet-change` (bubbling) for the page's
 * other cards.
 */
async function send(url, method, body, message = $('fleet-message')) {
  card.setAttribute('aria-busy', 'true');
  let refusal = '';
  try {
    await callApi(method, url, body);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    refusal = error.message;
  }
  try {
    await showFleet();
  } finally {
    message.textContent = refusal;
    card.setAttribute('aria-busy', 'false');
  }
  card.dispatchEvent(new Event('fleet-change', { bubbles: true }));
}

/** (Re)draw the card from the server's fleet, systems and key changes. */
export async function showFleet() {
  const [{ profiles, camera_users: users, cameras, networks }, { systems }, { key_changes: keyChanges }] =
    await Promise.all([callApi('GET', '/api/fleet'), callApi('GET', '/api/organisation/systems'),
      callApi('GET', '/api/fleet/key-changes')]);
  const profileName = Object.fromEntries(profiles.map((p) => [p.id, p.name]));
  const userName = Object.fromEntries(users.map((u) => [u.id, u.name]));
  const systemName = Object.fromEntries(systems.map((s) => [s.id, s.name]));
  const cameraUser = Object.fromEntries(cameras.map((c) => [c.id, userName[c.camera_user_id] ?? '—']));
  $('fleet-profiles').replaceChildren(...profiles.map((profile) => {
    const url = `/api/fleet/profiles/${profile.id}`;
    const patch = (change) => send(url, 'PATCH', change);
    const line = row([
      renamableCell(profile.name, (name) => patch({ name })),
      toggle('streaming', Boolean(profile.streaming), (on) => patch({ streaming: on })),
      toggle('location', Boolean(profile.location), (on) => patch({ location: on })),
      deleteButton(() => line, `Delete profile ${profile.name} and its Wi-Fi networks?`, () => send(url, 'DELETE')),
    ], { className: 'fleet-profile', dataset: { profileId: profile.id } });
    return line;
  }));
  $('fleet-users').replaceChildren(...users.map((user) => {
    const url = `/api/fleet/camera-users/${user.id}`;
    const profile = el('select', { className: 'profile-of-user', onchange: () => send(url, 'PATCH', { profile_id: profile.value }) },
      ...(user.profile_id ? [] : [new Option('—', '')]),
      ...profiles.map((p) => new Option(p.name, p.id, false, p.id === user.profile_id)));
    const line = row([
      renamableCell(user.name, (name) => send(url, 'PATCH', { name })),
      profile,
      el('td', {}, pairButton(user, () => line, (error) => say($('fleet-message'), error.message))),
      deleteButton(() => line, `Delete camera user ${user.name} and their own Wi-Fi networks?`, () => send(url, 'DELETE')),
    ], { className: 'fleet-user', dataset: { userId: user.id } });
    return line;
  }));
  $('fleet-cameras').replaceChildren(...cameras.map((camera) => {
    const revoke = el('button', {
      className: 'quiet revoke',
      textContent: camera.revoked_at ? 'revoked' : 'Revoke',
      disabled: Boolean(camera.revoked_at),
      onclick: () => send(`/api/fleet/cameras/${camera.id}/revoke`, 'POST'),
    });
    const docked = camera.last_docked_at ? new Date(camera.last_docked_at).toLocaleString() : 'never';
    const reassign = button('quiet reassign', 'Reassign…', () => {
      const to = el('select', { className: 'user-of-camera' }, new Option('no camera user', ''),
        ...users.filter((u) => u.id !== camera.camera_user_id).map((u) => new Option(u.name, u.id)));
      confirmUnder(line, [`Give camera ${camera.serial} (now ${cameraUser[camera.id]}) to `, to,
        '? Its next stream is named after them.'], 'Yes, reassign',
      () => send(`/api/fleet/cameras/${camera.id}`, 'PATCH', { camera_user_id: to.value || null }));
    });
    const line = row([camera.serial, camera.model, cameraUser[camera.id], systemName[camera.system_id] ?? '—', docked,
      el('td', { className: 'actions' }, revoke, ' ', reassign)],
      { className: 'fleet-camera', dataset: { serial: camera.serial } });
    return line;
  }));
  $('key-changes').tBodies[0].replaceChildren(...keyChanges.map((change) => keyChangeRow(change, cameraUser[change.camera_id],
    () => send(`/api/fleet/cameras/${change.camera_id}/key-change`, 'POST', { thumbprint: change.new_thumbprint },
      $('key-change-message')))));
  $('key-changes').hidden = keyChanges.length === 0;
  $('key-changes-none').hidden = keyChanges.length > 0;
  $('fleet-networks').replaceChildren(...networks.map((network) => {
    const url = `/api/fleet/networks/${network.id}`;
    const owner = network.profile_id ? `profile ${profileName[network.profile_id]}` : `camera user ${userName[network.camera_user_id]}`;
    const password = el('input', { name: 'password', type: 'password', autocomplete: 'off', placeholder: 'new password' });
    const change = el('form', { className: 'network-password' }, password, ' ',
      el('button', { className: 'quiet small', textContent: 'Set' }));
    change.addEventListener('submit', (event) => {
      event.preventDefault();
      send(url, 'PATCH', { password: password.value });
    });
    const line = row([renamableCell(network.ssid, (ssid) => send(url, 'PATCH', { ssid })), owner, change,
      deleteButton(() => line, `Delete Wi-Fi network ${network.ssid}? Cameras lose it at their next dock.`, () => send(url, 'DELETE'))],
    { className: 'fleet-network', dataset: { networkId: network.id } });
    return line;
  }));
  card.querySelector('.owner-choice').replaceChildren(
    ...profiles.map((p) => new Option(`profile ${p.name}`, `profile_id:${p.id}`)),
    ...users.map((u) => new Option(`camera user ${u.name} (overrides)`, `camera_user_id:${u.id}`)),
  );
  card.querySelector('.profile-choice').replaceChildren(...profiles.map((p) => new Option(p.name, p.id)));
  card.querySelector('.user-choice').replaceChildren(...users.map((u) => new Option(u.name, u.id)));
  card.querySelector('.system-choice').replaceChildren(...systems.map((s) => new Option(s.name, s.id)));
}

/**
 * A Delete button that asks first, under its row.
 * @param {() => HTMLTableRowElement} line the row (made after the button)
 * @param {string} question
 * @param {() => Promise<void>} act
 */
function deleteButton(line, question, act) {
  return el('td', {}, button('quiet delete', 'Delete', () => confirmUnder(line(), question, 'Yes, delete', act)));
}

/** The camera form; with no system to choose, no `system_id` (the server then says why it cannot add one). */
function cameraBody({ system_id: systemId, ...fields }) {
  return systemId ? { ...fields, system_id: systemId } : fields;
}

/** A network form's "For" choice becomes `profile_id` or `camera_user_id`. */
function networkBody(fields) {
  const [key, id] = fields.owner.split(':');
  return { ssid: fields.ssid, password: fields.password, [key]: id };
}
