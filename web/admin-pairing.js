/**
 * "Pair a phone" on each camera user of the admin page's Cameras card (PROTOCOL §6): a
 * one-time code (10 minutes), shown once with the phone page's link and its QR code. The
 * phone that redeems it becomes a camera of that camera user once its system docks it
 * (`bwlive camera dock-phones`).
 *
 * Test hooks: `button.pair-phone` in `.fleet-user` rows; `.pairing` under the row with
 * `.pairing-code`, `a.pairing-link`, `img.pairing-qr`.
 */
import { callApi } from './api.js';
import { button, el } from './dom.js';

/**
 * The button of one camera user's row.
 * @param {{id: string, name: string}} user
 * @param {() => HTMLTableRowElement} line the user's row, under which the code shows
 * @param {(error: Error) => void} fail
 */
export function pairButton(user, line, fail) {
  return button('quiet pair-phone', 'Pair a phone', () => {
    callApi('POST', '/api/fleet/pairings', { camera_user_id: user.id }).then((made) => {
      line().nextElementSibling?.classList.contains('pairing') && line().nextElementSibling.remove();
      const cell = el('td', { colSpan: 4 },
        el('p', {}, `Pairing code for ${made.camera_user}: `, el('strong', { className: 'pairing-code', textContent: made.code }),
          ` (once, until ${new Date(made.expires_at).toLocaleTimeString()}). Open on the phone: `,
          el('a', { className: 'pairing-link', href: made.link, textContent: made.link })),
        el('img', { className: 'pairing-qr', src: made.qr, alt: `QR code of ${made.link}` }),
        el('p', { className: 'hint', textContent: 'Then dock it at the system: bwlive camera dock-phones' }));
      line().after(el('tr', { className: 'pairing' }, cell));
    }, fail);
  });
}
