/**
 * Settings: the organisation's SOC integrations (add with URL and optional signing
 * secret, send a test event, remove) and the log of their deliveries, refreshed every
 * few seconds. Rows carry `data-id` (integrations), `data-delivery-id` and `data-status`
 * (deliveries) for tests.
 */
import { apiFetch, errorText, requireSignIn } from './session.js';

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 3000;
const SECRET_BYTES = 24;

/** @param {string} text @param {string} [className] */
function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

/** @param {string | null} iso */
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');

/** Send a request; on failure show the server's sentence and return null. */
async function call(url, init = {}) {
  const response = await apiFetch(url, init);
  if (!response.ok) {
    say(await errorText(response));
    return null;
  }
  return response.json();
}

/** @param {string} text @param {boolean} [ok] */
function say(text, ok = false) {
  $('integration-message').textContent = text;
  $('integration-message').className = ok ? 'message ok' : 'message';
}

async function showIntegrations() {
  const data = await call('/api/integrations');
  if (!data) return;
  $('integrations').replaceChildren(
    ...data.integrations.map((integration) => {
      const row = document.createElement('tr');
      row.dataset.id = integration.id;
      const test = document.createElement('button');
      test.className = 'quiet test-event';
      test.textContent = 'Send test event';
      test.addEventListener('click', () => sendTest(integration));
      const remove = document.createElement('button');
      remove.className = 'quiet remove';
      remove.textContent = 'Remove';
      remove.addEventListener('click', () => removeIntegration(integration));
      const actions = cell('', 'actions');
      actions.append(test, remove);
      row.append(cell(integration.url, 'url'), cell(integration.signed ? 'yes' : 'no'), cell(when(integration.created_at)), actions);
      return row;
    }),
  );
}

/** One row per attempt, newest first; a delivery not tried yet gets one "queued" row. */
async function showDeliveries() {
  const data = await call('/api/integrations/deliveries');
  if (!data) return;
  const rows = data.deliveries.flatMap((delivery) => {
    const attempts = delivery.attempts.length ? [...delivery.attempts].reverse() : [null];
    return attempts.map((attempt, index) => {
      const latest = index === 0;
      const row = document.createElement('tr');
      row.dataset.deliveryId = delivery.id;
      row.dataset.status = latest ? delivery.status : 'earlier';
      const response = cell(attempt?.response_code != null ? String(attempt.response_code) : attempt ? 'no answer' : '', 'response');
      if (attempt?.error) {
        const detail = document.createElement('span');
        detail.className = 'error-text';
        detail.textContent = attempt.error;
        response.append(detail);
      }
      row.append(
        cell(when(attempt ? attempt.at : delivery.created_at)),
        cell(delivery.url, 'url'),
        cell(delivery.event_type),
        cell(attempt ? String(attempt.number) : '–', 'attempt'),
        response,
        cell(latest ? delivery.status : '', 'status'),
        cell(latest ? when(delivery.next_attempt_at) : '', 'next-retry'),
      );
      return row;
    });
  });
  $('deliveries').replaceChildren(...rows);
}

async function sendTest(integration) {
  const sent = await call(`/api/integrations/${encodeURIComponent(integration.id)}/test`, { method: 'POST' });
  if (sent) say(`A test event is on its way to ${integration.url}.`, true);
  await showDeliveries();
}

async function removeIntegration(integration) {
  if (!confirm(`Stop sending events to ${integration.url}? Its queue and delivery log are removed too.`)) return;
  if (await call(`/api/integrations/${encodeURIComponent(integration.id)}`, { method: 'DELETE' })) say('Removed.', true);
  await Promise.all([showIntegrations(), showDeliveries()]);
}

$('integration-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const secret = String(form.get('secret') ?? '');
  const added = await call('/api/integrations', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ url: form.get('url'), secret: secret || null }),
  });
  if (!added) return;
  event.target.reset();
  say(`Added ${added.url}${added.signed ? ', signed' : ''}.`, true);
  await showIntegrations();
});

$('generate-secret').addEventListener('click', () => {
  const bytes = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
  const input = $('integration-form').elements.namedItem('secret');
  input.value = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  input.select();
});

requireSignIn().then(async (session) => {
  if (!session) return;
  $('organisation').textContent = session.organisation.name;
  if (session.role !== 'admin') {
    $('banner').textContent = `Settings need the admin role; you are ${session.role} in ${session.organisation.name}.`;
    $('banner').hidden = false;
    return;
  }
  $('settings').hidden = false;
  await Promise.all([showIntegrations(), showDeliveries()]);
  setInterval(showDeliveries, REFRESH_MS);
});
