/**
 * The administration page (admins only): license, members and invitations, systems, audit
 * log, then the end-to-end key and camera cards. Every change that is audited refreshes
 * the audit log; a new system key also the systems and the cameras' key changes.
 */
import { showAudit } from './admin-audit.js';
import { showFleet, startFleet } from './admin-fleet.js';
import { startKeys } from './admin-keys.js';
import { startLicense } from './admin-license.js';
import { startMembers } from './admin-members.js';
import { startPolicy } from './admin-policy.js';
import { showSystems, startSystems } from './admin-systems.js';
import { byId } from './dom.js';
import { checkAdmin, requireSignIn } from './session.js';

requireSignIn().then(async (session) => {
  if (!session || !checkAdmin(session, 'Administration needs')) return;
  const page = byId('admin');
  page.hidden = false;
  page.addEventListener('fleet-change', showAudit);
  await Promise.all([
    startLicense(showAudit),
    startMembers(showAudit),
    startPolicy(showAudit),
    startSystems(),
    showAudit(),
    startKeys(page, () => Promise.all([showSystems(), showFleet(), showAudit()])),
    startFleet(page),
  ]);
});
