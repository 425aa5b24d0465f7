/**
 * The administration page (admins only): license, members and invitations, sign-in
 * security, systems, API keys, then the end-to-end key, camera and camera status cards. The audit log has its own
 * page (audit.html). A fleet change redraws the license card (its usage) and the camera status; a new system key
 * also the systems and the cameras' key changes.
 */
import { startApiKeys } from './admin-api-keys.js';
import { startConsoleOrigins } from './admin-console-origins.js';
import { showFleet, startFleet } from './admin-fleet.js';
import { startKeys } from './admin-keys.js';
import { showLicense, startLicense } from './admin-license.js';
import { startMembers } from './admin-members.js';
import { startPolicy } from './admin-policy.js';
import { showStatus, startStatus } from './admin-status.js';
import { showSystems, startSystems } from './admin-systems.js';
import { byId } from './dom.js';
import { checkAdmin, requireSignIn } from './session.js';

requireSignIn().then(async (session) => {
  if (!session || !checkAdmin(session, 'Administration needs')) return;
  const page = byId('admin');
  page.hidden = false;
  page.addEventListener('fleet-change', () => Promise.all([showLicense(), showStatus()]));
  await Promise.all([
    startLicense(),
    startMembers(),
    startPolicy(),
    startSystems(),
    startApiKeys(),
    startConsoleOrigins(),
    startKeys(page, () => Promise.all([showSystems(), showFleet()])),
    startFleet(page),
    startStatus(page),
  ]);
});
