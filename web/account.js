/**
 * The Account page (every signed-in user): two-factor sign-in (set up with a QR code and
 * a confirming code, recovery codes shown once, off again) and the password change. A
 * member whose organisation requires two-factor sign-in is sent here until it is on.
 */
import { byId, el, say, showText } from './dom.js';
import { callSaying } from './form-call.js';
import { requireSignIn } from './session.js';

/** @param {import('./session.js').Session} session */
function showTwoFactor(session) {
  const on = session.user.two_factor;
  byId('two-factor-state').textContent = on
    ? 'On: signing in asks for a code from your authenticator app.'
    : 'Off: signing in asks only for your password.';
  byId('two-factor-start').hidden = on;
  byId('two-factor-off').hidden = !on || session.two_factor_required;
  showText(
    byId('banner'),
    session.must_enrol ? `${session.organisation.name} requires two-factor sign-in: set it up to go on.` : '',
  );
}

requireSignIn().then((session) => {
  if (!session) return;
  byId('account').hidden = false;
  showTwoFactor(session);
  const message = byId('two-factor-message');

  byId('two-factor-start').addEventListener('click', async () => {
    const enrolment = await callSaying(message, 'POST', '/api/account/two-factor');
    if (!enrolment) return;
    byId('two-factor-qr').src = enrolment.qr;
    byId('two-factor-secret').textContent = enrolment.secret;
    byId('two-factor-enrol').hidden = false;
    byId('two-factor-start').hidden = true;
  });

  byId('two-factor-confirm').addEventListener('submit', async (event) => {
    event.preventDefault();
    const code = String(new FormData(event.target).get('code'));
    const answer = await callSaying(message, 'POST', '/api/account/two-factor/confirm', { code });
    if (!answer) return;
    byId('two-factor-enrol').hidden = true;
    byId('recovery-codes').replaceChildren(...answer.recovery_codes.map((c) => el('li', { textContent: c })));
    byId('recovery').hidden = false;
    showTwoFactor({ ...session, must_enrol: false, user: { ...session.user, two_factor: true } });
  });

  byId('two-factor-off').addEventListener('submit', async (event) => {
    event.preventDefault();
    const password = String(new FormData(event.target).get('password'));
    if (!(await callSaying(message, 'POST', '/api/account/two-factor/disable', { password }))) return;
    event.target.reset();
    byId('recovery').hidden = true;
    showTwoFactor({ ...session, user: { ...session.user, two_factor: false } });
  });

  byId('password-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = { current_password: form.get('current_password'), new_password: form.get('new_password') };
    const answer = await callSaying(byId('password-message'), 'PUT', '/api/account/password', body);
    if (!answer) return;
    event.target.reset();
    say(byId('password-message'), 'Password changed; your other sessions have ended.', true);
  });
});
