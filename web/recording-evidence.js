/**
 * A recording's evidence on the recordings page: the server's verification against the
 * camera's signatures (`#evidence[data-verified]`: checking, yes, no; the sentence in
 * `#evidence-result`) and, for operators and admins, the link that downloads its evidence
 * package (docs/RECORDINGS.md, "Evidence").
 */
import { ApiError, callApi } from './api.js';
import { byId } from './dom.js';

const box = byId('evidence');
const result = byId('evidence-result');
const download = /** @type {HTMLAnchorElement} */ (byId('evidence-download'));
let showing = '';

/**
 * @param {string} id the recording's id
 * @param {boolean} mayExport whether the signed-in role may download its package
 */
export async function showEvidence(id, mayExport) {
  showing = id;
  const path = `/api/recordings/${encodeURIComponent(id)}`;
  download.href = `${path}/evidence`;
  download.hidden = !mayExport;
  box.dataset.verified = 'checking';
  result.textContent = 'Checking the camera’s signatures…';
  let verdict;
  try {
    verdict = await callApi('GET', `${path}/verification`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    verdict = { verified: false, sentence: `The recording could not be checked: ${error.message}` };
  }
  if (showing !== id) return; // another recording was chosen meanwhile
  box.dataset.verified = verdict.verified ? 'yes' : 'no';
  result.textContent = verdict.verified ? `✓ ${verdict.sentence}` : `Not verified: ${verdict.sentence}`;
}
