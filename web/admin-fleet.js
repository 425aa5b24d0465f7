/**
 * The "Cameras" card of the admin page: profiles (streaming and location switches),
 * camera users and their profiles, cameras and revocation. Cameras then dock at the
 * system (`bwlive camera dock`) to get their credential.
 *
 * Test hooks: `#fleet` (the card), `.fleet-profile[data-profile-id]` with
 * `input.streaming` / `input.location`, `.fleet-camera[data-serial]` with `button.revoke`,
 * `.fleet-network` rows, forms `#profile-form`, `#user-form`, `#camera-form`, `#network-form`
 * (a network for a camera user overrides its profile's), `#fleet-message`.
 */
import { ApiError, callApi } from './api.js';
import { el, row } from './dom.js';

const card = el('section', { className: 'card', id: 'fleet' });
card.innerHTML = `
  <h2>Cameras</h2>
  <table><thead><tr><th>Profile</th><th>Streaming</th><th>Location</th></tr></thead><tbody id="fleet-profiles"></tbody></table>
  <form class="row" id="profile-form">
    <label>New profile <input name="name" required></label>
    <button class="quiet" type="submit">Add profile</button>
  </form>
  <table><thead><tr><th>Camera user</th><th>Profile</th></tr></thead><tbody id="fleet-users"></tbody></table>
  <form class="row" id="user-form">
    <label>Camera user <input name="name" required></label>
    <label>Profile <select name="profile_id" class="profile-choice"></select></label>
    <button class="quiet" type="submit">Add camera user</button>
  </form>
  <table><thead><tr><th>Serial</th><th>Model</th><th>Camera user</th><th>Last docked</th><th></th></tr></thead>
    <tbody id="fleet-cameras"></tbody></table>
  <form class="row" id="camera-form">
    <label>Serial <input name="serial" required></label>
    <label>Model <input name="model"></label>
    <label>Camera user <select name="camera_user_id" class="user-choice"></select></label>
    <button class="quiet" type="submit">Add camera</button>
  </form>
  <table><thead><tr><th>Wi-Fi network</th><th>For</th></tr></thead><tbody id="fleet-networks"></tbody></table>
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
    ['user-form', '/api/fleet/camera-users', (f) => f], ['camera-form', '/api/fleet/cameras', (f) => f],
    ['network-form', '/api/fleet/networks', networkBody]]) {
    $(form).addEventListener('submit', async (event) => {
      event.preventDefault();
      await send(url, 'POST', body(Object.fromEntries(new FormData(event.target))));
      event.target.reset();
    });
  }
  page.append(card);
  return show();
}

/** @param {string} className @param {boolean} checked @param {(checked: boolean) => void} onChange */
function toggle(className, checked, onChange) {
  const box = el('input', { type: 'checkbox', className, checked });
  box.addEventListener('change', () => onChange(box.checked));
  return box;
}

/** A change; the server's refusal is shown, and the card redrawn either way. */
async function send(url, method, body) {
  try {
    await callApi(method, url, body);
    $('fleet-message').textContent = '';
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    $('fleet-message').textContent = error.message;
  }
  await show();
}

async function show() {
  const { profiles, camera_users: users, cameras, networks } = await callApi('GET', '/api/fleet');
  const profileName = Object.fromEntries(profiles.map((p) => [p.id, p.name]));
  const userName = Object.fromEntries(users.map((u) => [u.id, u.name]));
  $('fleet-profiles').replaceChildren(...profiles.map((profile) => {
    const patch = (change) => send(`/api/fleet/profiles/${profile.id}`, 'PATCH', change);
    return row([
      profile.name,
      toggle('streaming', Boolean(profile.streaming), (on) => patch({ streaming: on })),
      toggle('location', Boolean(profile.location), (on) => patch({ location: on })),
    ], { className: 'fleet-profile', dataset: { profileId: profile.id } });
  }));
  $('fleet-users').replaceChildren(...users.map((user) => row([user.name, profileName[user.profile_id] ?? '—'])));
  $('fleet-cameras').replaceChildren(...cameras.map((camera) => {
    const revoke = el('button', {
      className: 'quiet revoke',
      textContent: camera.revoked_at ? 'revoked' : 'Revoke',
      disabled: Boolean(camera.revoked_at),
      onclick: () => send(`/api/fleet/cameras/${camera.id}/revoke`, 'POST'),
    });
    const docked = camera.last_docked_at ? new Date(camera.last_docked_at).toLocaleString() : 'never';
    return row([camera.serial, camera.model, userName[camera.camera_user_id] ?? '—', docked, revoke],
      { className: 'fleet-camera', dataset: { serial: camera.serial } });
  }));
  $('fleet-networks').replaceChildren(...networks.map((network) => {
    const owner = network.profile_id ? `profile ${profileName[network.profile_id]}` : `camera user ${userName[network.camera_user_id]}`;
    return row([network.ssid, owner], { className: 'fleet-network' });
  }));
  card.querySelector('.owner-choice').replaceChildren(
    ...profiles.map((p) => new Option(`profile ${p.name}`, `profile_id:${p.id}`)),
    ...users.map((u) => new Option(`camera user ${u.name} (overrides)`, `camera_user_id:${u.id}`)),
  );
  card.querySelector('.profile-choice').replaceChildren(...profiles.map((p) => new Option(p.name, p.id)));
  card.querySelector('.user-choice').replaceChildren(...users.map((u) => new Option(u.name, u.id)));
}

/** A network form's "For" choice becomes `profile_id` or `camera_user_id`. */
function networkBody(fields) {
  const [key, id] = fields.owner.split(':');
  return { ssid: fields.ssid, password: fields.password, [key]: id };
}
