/**
 * The settings page: the keys this browser holds (everyone) and the SOC integrations
 * (admins only).
 */
import { byId } from './dom.js';
import { loadKeys } from './key-bootstrap.js';
import { checkAdmin, requireSignIn } from './session.js';
import { browserKeysCard } from './settings-keys.js';
import { startIntegrations } from './settings-integrations.js';

loadKeys().then(({ keys }) => byId('settings').before(browserKeysCard(keys)));

requireSignIn().then(async (session) => {
  if (!session || !checkAdmin(session, 'Settings need')) return;
  byId('settings').hidden = false;
  await startIntegrations();
});
