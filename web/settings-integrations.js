/**
 * Settings card "SOC integrations" (admin only): the organisation's receivers (add with
 * URL and optional signing secret, send a test event, remove) and the log of their
 * deliveries, refreshed every few seconds. Rows carry `data-id` (integrations),
 * `data-delivery-id` and `data-status` (deliveries) for tests.
 */
import { ApiError, callApi } from './api.js';
import { byId, el, row, say } from './dom.js';

const REFRESH_MS = 3000;
const SECRET_BYTES = 24;

/** Show the integrations and keep the deliveries log fresh. */
export async function startIntegrations() {
  byId('integration-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const secret = String(form.get('secret') ?? '');
    const added = await call('POST', '/api/integrations', { url: form.get('url'), secret: secret || null });
    if (!added) return;
    event.target.reset();
    tell(`Added ${added.url}${added.signed ? ', signed' : ''}.`, true);
    await showIntegrations();
  });
  byId('generate-secret').addEventListener('click', () => {
    const bytes = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
    const input = byId('integration-form').elements.namedItem('secret');
    input.value = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    input.select();
  });
  await Promise.all([showIntegrations(), showDeliveries()]);
  setInterval(showDeliveries, REFRESH_MS);
}

/** @param {string} text @param {boolean} [ok] */
function tell(text, ok = false) {
  say(byId('integration-message'), text, ok);
}

/**
 * A call whose refusal is told in the server's words.
 * @returns {Promise<any>} the answer, null when refused
 */
async function call(method, path, body) {
  try {
    return await callApi(method, path, body);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    tell(error.message);
    return null;
  }
}

/** @param {string} text @param {string} className */
const cell = (text, className) => el('td', { textContent: text, className });

/** @param {string | null} iso */
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');

async function showIntegrations() {
  const data = await call('GET', '/api/integrations');
  if (!data) return;
  byId('integrations').replaceChildren(
    ...data.integrations.map((integration) => {
      const actions = el(
        'td',
        { className: 'actions' },
        el('button', { className: 'quiet test-event', textContent: 'Send test event', onclick: () => sendTest(integration) }),
        el('button', { className: 'quiet remove', textContent: 'Remove', onclick: () => removeIntegration(integration) }),
      );
      return row(
        [cell(integration.url, 'url'), integration.signed ? 'yes' : 'no', when(integration.created_at), actions],
        { dataset: { id: integration.id } },
      );
    }),
  );
}

/** One row per attempt, newest first; a delivery not tried yet gets one "queued" row. */
async function showDeliveries() {
  const data = await call('GET', '/api/integrations/deliveries');
  if (!data) return;
  const rows = data.deliveries.flatMap((delivery) => {
    const attempts = delivery.attempts.length ? [...delivery.attempts].reverse() : [null];
    return attempts.map((attempt, index) => {
      const latest = index === 0;
      const response = cell(attempt?.response_code != null ? String(attempt.response_code) : attempt ? 'no answer' : '', 'response');
      if (attempt?.error) response.append(el('span', { className: 'error-text', textContent: attempt.error }));
      return row(
        [
          when(attempt ? attempt.at : delivery.created_at),
          cell(delivery.url, 'url'),
          delivery.event_type,
          cell(attempt ? String(attempt.number) : '–', 'attempt'),
          response,
          cell(latest ? delivery.status : '', 'status'),
          cell(latest ? when(delivery.next_attempt_at) : '', 'next-retry'),
        ],
        { dataset: { deliveryId: delivery.id, status: latest ? delivery.status : 'earlier' } },
      );
    });
  });
  byId('deliveries').replaceChildren(...rows);
}

async function sendTest(integration) {
  const sent = await call('POST', `/api/integrations/${encodeURIComponent(integration.id)}/test`);
  if (sent) tell(`A test event is on its way to ${integration.url}.`, true);
  await showDeliveries();
}

async function removeIntegration(integration) {
  if (!confirm(`Stop sending events to ${integration.url}? Its queue and delivery log are removed too.`)) return;
  if (await call('DELETE', `/api/integrations/${encodeURIComponent(integration.id)}`)) tell('Removed.', true);
  await Promise.all([showIntegrations(), showDeliveries()]);
}
