// Drafts: autosave to /v1/drafts, resume from ?draft=<id>, the "continue later" box.

import { api } from './api.js';
import { destroyCharts } from './charts.js';
import { markEntry } from './history.js';
import { $, announce, formatDate, formatTime, h, pageUrl, setView } from './dom.js';
import { renderForm } from './form.js';
import { EMBED } from './frame.js';
import { t } from './i18n.js';
import { applyLang, renderLoadError, renderLoading, setTitle } from './page.js';
import { previousDraft, restorePrevious } from './progress.js';
import { emitReady, firstOpenSection, knownAnswers, loadQuestionnaire, setQuestionnaire, showIntro } from './questionnaire.js';
import { elapsedSeconds, SAVE_DELAY_MS, state, storageGet, storageSet, STORE_DRAFT, STORE_SUBMITTED } from './state.js';
import { resetForNewAssessment } from './submit.js';

export async function resumeDraft(id) {
  const seq = ++state.seq;
  state.view = 'loading';
  renderLoading();
  setUrl({ draft: id });
  const r = await api(`v1/drafts/${encodeURIComponent(id)}`);
  if (seq !== state.seq) return;
  if (r.network || r.status >= 500) {
    renderLoadError(t().draftLoadFailed, () => resumeDraft(id));
    return;
  }
  if (!r.ok || !r.data) {
    if (storageGet(STORE_DRAFT) === id) storageSet(STORE_DRAFT, null);
    setUrl({});
    const done = submittedDrafts()[id];
    if (done && done.token) {
      renderSubmittedDraft(done);
      return;
    }
    state.q = state.q && state.q.language === state.lang ? state.q : null;
    await showIntro();
    announce(t().draftMissing, 'warning');
    return;
  }
  const d = r.data;
  applyLang(d.language);
  const version = (d.questionnaire && d.questionnaire.version) || 'latest';
  const q = (await loadQuestionnaire(state.lang, version)) || (await loadQuestionnaire(state.lang));
  if (seq !== state.seq) return;
  if (!q) {
    renderLoadError(t().loadFailed, () => resumeDraft(id));
    return;
  }
  setQuestionnaire(q);
  state.answers = knownAnswers(d.answers);
  state.errors = {};
  state.generalErrors = [];
  state.submission = null;
  restorePrevious(d.id);
  Object.assign(state.draft, { id: d.id, expiresAt: d.expires_at, disabled: false, status: 'saved', failures: 0 });
  state.draft.savedAt = new Date();
  storageSet(STORE_DRAFT, d.id);
  // the clock goes on from the time the draft has spent so far (any device)
  state.started = true;
  state.startedAt = Date.now();
  state.elapsedBefore = Number.isInteger(d.elapsed_seconds) && d.elapsed_seconds > 0 ? d.elapsed_seconds : 0;
  state.section = firstOpenSection();
  state.view = 'form';
  markEntry('form', state.section);
  renderForm('heading');
  announce(t().draftResumed, 'success');
}

/** This browser's record of submitted drafts: an old draft link then says it was submitted
 * and links to the result (the server deletes a draft when it is submitted). */
function submittedDrafts() {
  try {
    const m = JSON.parse(storageGet(STORE_SUBMITTED) || '{}');
    return m && typeof m === 'object' && !Array.isArray(m) ? m : {};
  } catch {
    return {};
  }
}

export function rememberSubmitted(draftId, token, at) {
  if (!draftId || EMBED) return;
  const m = submittedDrafts();
  m[draftId] = { token, at };
  const keep = Object.entries(m).sort((a, b) => String(b[1].at).localeCompare(String(a[1].at))).slice(0, 10);
  storageSet(STORE_SUBMITTED, JSON.stringify(Object.fromEntries(keep)));
}

function renderSubmittedDraft(done) {
  const tx = t();
  destroyCharts();
  state.view = 'message';
  state.retry = () => renderSubmittedDraft(done); // a language switch re-renders it
  setTitle();
  setView(
    h(
      'div',
      { class: 'panel alert alert-success', id: 'draft-submitted', role: 'status' },
      h('h1', { tabindex: '-1' }, tx.draftSubmittedTitle),
      h('p', {}, tx.draftSubmitted(done.at ? formatDate(done.at) : '')),
      h(
        'p',
        {},
        h('a', { href: `#result=${done.token}`, class: 'btn btn-primary', id: 'draft-result-link' }, tx.openResult),
        ' ',
        h('button', { type: 'button', class: 'btn btn-secondary', id: 'draft-new-btn', onclick: resetForNewAssessment }, tx.newAssessment),
      ),
    ),
  );
  emitReady();
}

export function setUrl({ draft = null, result = null }) {
  if (EMBED) return; // the frame's address keeps the partner's settings
  const search = draft ? `?draft=${encodeURIComponent(draft)}` : '';
  const hash = result ? `#result=${result}` : '';
  history.replaceState(history.state, '', `${location.pathname}${search}${hash}`);
}

export function scheduleSave(delay = SAVE_DELAY_MS) {
  const d = state.draft;
  if (d.disabled) return;
  clearTimeout(d.timer);
  d.timer = setTimeout(saveDraft, delay);
}

export function draftBody() {
  return { questionnaire: state.q.id, version: state.q.version, language: state.lang, answers: { ...state.answers }, elapsed_seconds: elapsedSeconds() };
}

export async function saveDraft() {
  const d = state.draft;
  d.timer = null;
  if (d.disabled || !state.q) return;
  if (d.saving) {
    d.dirty = true;
    return;
  }
  d.saving = true;
  d.dirty = false;
  setSaveStatus('saving');
  const body = draftBody();
  let r;
  if (d.id) {
    r = await api(`v1/drafts/${encodeURIComponent(d.id)}`, { method: 'PUT', body });
    if (r.status === 404 && !d.disabled) r = await api('v1/drafts', { method: 'POST', body }); // expired
  } else {
    r = await api('v1/drafts', { method: 'POST', body });
  }
  d.saving = false;
  if (d.disabled) return; // submitted meanwhile
  if (r.ok && r.data && r.data.id) {
    const isNew = d.id !== r.data.id;
    d.id = r.data.id;
    d.expiresAt = r.data.expires_at;
    d.failures = 0;
    d.savedAt = new Date();
    storageSet(STORE_DRAFT, d.id);
    if (isNew && state.view === 'form') setUrl({ draft: d.id });
    previousDraft(d.id);
    setSaveStatus('saved');
    if (d.dirty) scheduleSave(0);
  } else if (r.network || r.status >= 500 || r.status === 429) {
    d.failures += 1;
    setSaveStatus('failed');
    scheduleSave(Math.min(30000, 1000 * 2 ** d.failures));
  } else {
    setSaveStatus('rejected');
  }
}

/** Send a pending save when the page is hidden or closed (best effort). */
export function flushSave() {
  const d = state.draft;
  if (!d.timer || !d.id || d.disabled || !state.q) return;
  clearTimeout(d.timer);
  d.timer = null;
  try {
    fetch(`v1/drafts/${encodeURIComponent(d.id)}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(draftBody()),
      keepalive: true,
      credentials: 'same-origin',
    }).catch(() => {});
  } catch {
    /* nothing more to do while the page goes away */
  }
}

export function setSaveStatus(status) {
  state.draft.status = status;
  if (state.view === 'form') renderSaveBox();
}

export function renderSaveBox() {
  const box = $('#save-box');
  if (!box) return;
  const tx = t();
  const d = state.draft;
  const statusEl = $('#save-status');
  const texts = {
    saving: tx.saving,
    saved: d.savedAt ? tx.saved(formatTime(d.savedAt)) : '',
    failed: tx.saveFailed,
    rejected: tx.saveRejected,
    idle: '',
  };
  statusEl.textContent = texts[d.status] || '';
  statusEl.className = `save-status save-${d.status}`;
  const resume = $('#resume');
  if (!d.id || EMBED) {
    resume.hidden = true;
    return;
  }
  resume.hidden = false;
  const link = `${pageUrl()}?draft=${encodeURIComponent(d.id)}`;
  $('#resume-text').textContent = tx.resumeText(d.expiresAt ? formatDate(d.expiresAt) : '');
  $('#resume-link').value = link;
}
