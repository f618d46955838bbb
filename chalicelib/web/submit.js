// Submitting the answers (idempotent retries) and starting a new assessment.

import { api } from './api.js';
import { $, announce, capitalise, formatDate, h } from './dom.js';
import { rememberSubmitted, setUrl } from './draft.js';
import { renderForm, showErrors } from './form.js';
import { EMBED, embedSecret, emit } from './frame.js';
import { t } from './i18n.js';
import { setPrevious } from './progress.js';
import { missingRequired, showIntro, startForm } from './questionnaire.js';
import { showResult } from './result.js';
import { STORE_DRAFT, SUBMIT_TIMEOUT_MS, elapsedSeconds, state, storageSet } from './state.js';

export function newKey() {
  if (window.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function renderSubmitFailure() {
  const f = state.submitFailure;
  if (!f) return null;
  const tx = t();
  return h(
    'div',
    { class: 'panel alert alert-error', id: 'submit-problem', role: 'alert', tabindex: '-1' },
    h('h2', {}, tx.submitFailedTitle),
    h('p', {}, f.message),
    f.detail ? h('p', { class: 'muted' }, f.detail) : null,
    h('button', { type: 'button', class: 'btn btn-primary', id: 'retry-btn', onclick: () => submit() }, tx.tryAgain),
  );
}

export function pointerToQuestion(pointer) {
  const m = /^\/answers\/(.+)$/.exec(pointer || '');
  if (!m) return null;
  const id = m[1].replace(/~1/g, '/').replace(/~0/g, '~');
  return state.index.has(id) ? id : null;
}

export function localiseDetail(detail) {
  if (!detail) return t().required;
  if (detail.trim().toLowerCase() === 'an answer is required') return t().required;
  return capitalise(detail);
}

export async function submit() {
  if (state.submitting) return;
  const tx = t();
  state.generalErrors = [];
  const missing = missingRequired();
  if (missing.length) {
    state.errors = Object.fromEntries(missing.map((id) => [id, tx.required]));
    state.submitFailure = null;
    showErrors();
    return;
  }
  state.errors = {};
  if (!state.submission) {
    const seconds = elapsedSeconds();
    const body = {
      questionnaire: state.q.id,
      version: state.q.version,
      language: state.lang,
      answers: { ...state.answers },
      duration_seconds: seconds,
    };
    if (state.draft.id) body.draft_id = state.draft.id;
    if (state.previous && state.previous.token && !EMBED) body.previous_token = state.previous.token;
    state.submission = { key: newKey(), body };
  }
  const { key, body } = state.submission;
  state.submitting = true;
  state.submitFailure = null;
  renderForm(null);
  const submitBtn = $('#submit-btn');
  if (submitBtn) submitBtn.focus({ preventScroll: true });
  clearTimeout(state.draft.timer);
  state.draft.timer = null;

  const r = EMBED
    ? await api('v1/partner/assessments', {
        method: 'POST',
        body: EMBED.reference && !embedSecret ? { ...body, reference: EMBED.reference } : body,
        headers: { 'Idempotency-Key': key, Authorization: `Bearer ${embedSecret || EMBED.key}` },
        timeout: SUBMIT_TIMEOUT_MS,
      })
    : await api('v1/assessments', { method: 'POST', body, headers: { 'Idempotency-Key': key }, timeout: SUBMIT_TIMEOUT_MS });
  state.submitting = false;
  if (r.ok && r.data && r.data.token) {
    finishSubmission(r.data);
    return;
  }
  if (state.view !== 'form') return;
  if (r.network || r.status >= 500 || r.status === 429) {
    state.submitFailure = { message: r.network ? tx.submitNetwork : tx.submitServer };
    renderForm('failure');
    return;
  }
  const problem = r.data && typeof r.data === 'object' ? r.data : {};
  const errors = Array.isArray(problem.errors) ? problem.errors : [];
  for (const e of errors) {
    if (e.pointer === '/previous_token') {
      // the earlier result is gone (erased): submit without the link next time
      setPrevious(null);
      state.generalErrors.push(tx.previousGone);
      continue;
    }
    const qid = pointerToQuestion(e.pointer);
    if (qid) state.errors[qid] = localiseDetail(e.detail);
    else state.generalErrors.push(capitalise(e.detail || problem.detail || ''));
  }
  if (r.status === 409) {
    state.submission = null;
    state.submitFailure = { message: tx.submitConflict };
    renderForm('failure');
    return;
  }
  if (Object.keys(state.errors).length) {
    state.submission = null;
    showErrors();
    return;
  }
  state.generalErrors = [];
  state.submission = null;
  state.submitFailure = { message: tx.submitOther, detail: problem.detail ? capitalise(problem.detail) : null };
  renderForm('failure');
}

export function finishSubmission(data) {
  const d = state.draft;
  d.disabled = true;
  clearTimeout(d.timer);
  d.timer = null;
  storageSet(STORE_DRAFT, null);
  rememberSubmitted(d.id, data.token, data.created_at || new Date().toISOString());
  setPrevious(null);
  state.submission = null;
  state.submitFailure = null;
  state.errors = {};
  setUrl({ result: data.token });
  emit('submitted', { assessment_id: data.id });
  showResult(data.id, data.token, data, true);
}

export function resetForNewAssessment() {
  clearAnswers();
  setUrl({});
  announce('');
  showIntro();
}

/** Re-assess: a new assessment that, when submitted, is linked to the result shown now
 * (previous_token), so its result shows the change. A new history entry: Back returns to the
 * earlier result. */
export async function startReassessment() {
  const { id, token, data } = state.result;
  clearAnswers();
  setPrevious({ id, token, created_at: (data && data.created_at) || null, draft: null });
  try {
    history.pushState({ smm: 'intro' }, '', location.pathname);
  } catch {
    setUrl({});
  }
  await showIntro();
  if (state.view !== 'intro') return;
  startForm();
  announce(t().reassessNote(state.previous.created_at ? formatDate(state.previous.created_at) : ''), 'info');
}

/** Forget the submitted (or abandoned) answers and draft: the next start is a new one. */
export function clearAnswers() {
  state.started = false;
  state.answers = {};
  state.errors = {};
  state.generalErrors = [];
  state.submission = null;
  state.submitFailure = null;
  state.result = null;
  state.section = 0;
  clearTimeout(state.draft.timer);
  state.draft = { id: null, expiresAt: null, timer: null, saving: false, dirty: false, failures: 0, status: 'idle', disabled: false };
}
