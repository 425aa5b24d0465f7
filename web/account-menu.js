/**
 * The account menu at the right of every signed-in page's header: the organisation (a
 * switch when the user has several), Administration (admins), the user's Account page
 * and Sign out.
 */
import { callApi, keepSessionToken } from './api.js';
import { button, el } from './dom.js';

/** @param {import('./session.js').Session} session a signed-in session with an organisation */
export function showAccountMenu(session) {
  const bar = document.querySelector('header.topbar');
  if (!bar || bar.querySelector('.account-menu')) return;
  const organisations = session.organisations ?? [];
  const organisation =
    organisations.length > 1
      ? el(
          'select',
          { id: 'organisation-switch', title: 'Switch organisation', onchange: (event) => switchTo(event.target.value) },
          ...organisations.map((org) => new Option(`${org.name} (${org.role})`, org.id, false, org.id === session.organisation.id)),
        )
      : el('span', { className: 'organisation-name', textContent: session.organisation.name });
  const admin = session.role === 'admin' ? [el('a', { id: 'admin-link', href: '/web/admin.html', textContent: 'Administration' })] : [];
  bar.append(
    el(
      'div',
      { className: 'account-menu' },
      organisation,
      ...admin,
      el('a', { id: 'account-link', href: '/web/account.html', textContent: session.user.name, title: 'Your account' }),
      Object.assign(button('quiet', 'Sign out', signOut), { id: 'sign-out' }),
    ),
  );
}

/** @param {string} organisationId */
async function switchTo(organisationId) {
  await callApi('PUT', '/api/session/organisation', { organisation_id: organisationId });
  location.reload();
}

async function signOut() {
  keepSessionToken(await callApi('DELETE', '/api/session')); // a self-hosted console forgets its token now
  location.assign('/web/signin.html');
}
