/**
 * The audit log page (admins): entries a page at a time, newest first, filtered by person,
 * camera, action and time range on the server; the same filter exports CSV.
 */
import { callApi } from './api.js';
import { byId, row } from './dom.js';
import { callSaying } from './form-call.js';
import { checkAdmin, requireSignIn } from './session.js';

const PAGE_SIZE = 50;
const form = /** @type {HTMLFormElement} */ (byId('audit-filter'));
let page = 0;

/** The filter as query parameters (times in UTC), without the empty ones. */
function filter() {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (!value) continue;
    params.set(name, name === 'since' || name === 'until' ? new Date(String(value)).toISOString() : String(value));
  }
  return params;
}

/** @param {{user_name: string | null, user_email: string | null}} entry */
function person(entry) {
  if (!entry.user_name) return '';
  return entry.user_email ? `${entry.user_name} <${entry.user_email}>` : entry.user_name;
}

async function show() {
  const params = filter();
  byId('audit-export').href = `/api/organisation/audit.csv?${params}`;
  params.set('page', String(page));
  params.set('page_size', String(PAGE_SIZE));
  const answer = await callSaying(byId('audit-message'), 'GET', `/api/organisation/audit?${params}`);
  if (!answer) return;
  const actions = form.elements.namedItem('action');
  const chosen = actions.value;
  actions.replaceChildren(new Option('Any', ''), ...answer.actions.map((a) => new Option(a, a, false, a === chosen)));
  byId('audit').replaceChildren(
    ...answer.entries.map((entry) => {
      const details = Object.entries(entry.details).map(([k, v]) => `${k}: ${v}`).join(', ');
      return row([new Date(entry.time).toLocaleString(), person(entry), entry.action, details]);
    }),
  );
  const pages = Math.max(1, Math.ceil(answer.total / PAGE_SIZE));
  byId('audit-position').textContent = `Page ${page + 1} of ${pages} (${answer.total} entries)`;
  byId('audit-newer').disabled = page === 0;
  byId('audit-older').disabled = page + 1 >= pages;
}

requireSignIn().then(async (session) => {
  if (!session || !checkAdmin(session, 'The audit log needs')) return;
  byId('audit-page').hidden = false;
  const { members } = await callApi('GET', '/api/organisation/members');
  form.elements.namedItem('person').append(...members.map((m) => new Option(`${m.name} <${m.email}>`, m.id)));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    page = 0;
    show();
  });
  byId('audit-newer').addEventListener('click', () => {
    page -= 1;
    show();
  });
  byId('audit-older').addEventListener('click', () => {
    page += 1;
    show();
  });
  await show();
});
