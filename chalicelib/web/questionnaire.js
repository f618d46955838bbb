// The questionnaire: loading it, its questions and answers, the intro page and the start.

import { api } from './api.js';
import { destroyCharts } from './charts.js';
import { announce, h, setView } from './dom.js';
import { resumeDraft } from './draft.js';
import { renderForm } from './form.js';
import { EMBED, emit } from './frame.js';
import { markEntry, pushSection } from './history.js';
import { t } from './i18n.js';
import { ot } from './orgtext.js';
import { renderLoadError, renderLoading, setTitle } from './page.js';
import { QUESTIONNAIRE_ID, STORE_DRAFT, qCache, state, storageGet } from './state.js';

export async function loadQuestionnaire(lang, version = 'latest') {
  const key = `${lang}|${version}`;
  if (qCache.has(key)) return qCache.get(key);
  const r = await api(`v1/questionnaires/${QUESTIONNAIRE_ID}/${encodeURIComponent(version)}?lang=${lang}`);
  if (!r.ok || !r.data || !Array.isArray(r.data.sections)) return null;
  qCache.set(key, r.data);
  qCache.set(`${lang}|${r.data.version}`, r.data);
  return r.data;
}

export function setQuestionnaire(q) {
  state.q = q;
  state.index = new Map();
  let n = 0;
  q.sections.forEach((s, si) => {
    for (const question of s.questions) {
      n += 1;
      state.index.set(question.id, { question, section: si, number: n });
    }
  });
  if (state.section >= q.sections.length) state.section = q.sections.length - 1;
  applyPrefill();
}

/** The partner's prefill answers (industry, size, country: validated by the server against
 * the questionnaire; checked again here), never over an answer given already. */
export function applyPrefill() {
  if (!EMBED || !EMBED.prefill || !state.q) return;
  for (const [qid, opt] of Object.entries(EMBED.prefill)) {
    const entry = state.index.get(qid);
    if (state.answers[qid] === undefined && entry && entry.question.options.some((o) => o.id === opt)) state.answers[qid] = opt;
  }
}

/** Questions the partner answered already and asked to hide (hide_prefilled). */
export function hiddenQuestion(qid) {
  return Boolean(EMBED && EMBED.hide_prefilled && EMBED.prefill && qid in EMBED.prefill && state.answers[qid] === EMBED.prefill[qid]);
}

export function allQuestions() {
  return state.q.sections.flatMap((s) => s.questions);
}

export function answeredCount(questions = allQuestions()) {
  return questions.filter((x) => state.answers[x.id] !== undefined).length;
}

export function missingRequired() {
  return allQuestions().filter((x) => x.required && state.answers[x.id] === undefined).map((x) => x.id);
}

export function firstOpenSection() {
  const i = state.q.sections.findIndex((s) => s.questions.some((x) => state.answers[x.id] === undefined));
  return i === -1 ? state.q.sections.length - 1 : i;
}

/** Only answers the questionnaire knows survive (a draft may be from an older version). */
export function knownAnswers(answers) {
  const out = {};
  for (const [qid, opt] of Object.entries(answers || {})) {
    const entry = state.index.get(qid);
    if (entry && entry.question.options.some((o) => o.id === opt)) out[qid] = opt;
  }
  return out;
}

export async function showIntro() {
  state.view = 'intro';
  markEntry('intro');
  const seq = ++state.seq;
  if (!state.q || state.q.language !== state.lang) {
    renderLoading();
    const q = await loadQuestionnaire(state.lang);
    if (seq !== state.seq) return;
    if (!q) {
      renderLoadError(t().loadFailed, showIntro);
      return;
    }
    setQuestionnaire(q);
  }
  renderIntro();
}

export function emitReady() {
  if (state.emitted.ready) return;
  state.emitted.ready = true;
  emit('ready', { language: state.lang, questionnaire: state.q ? { id: state.q.id, version: state.q.version } : null });
}

export function renderIntro() {
  destroyCharts();
  const tx = t();
  const q = state.q;
  const total = allQuestions().length;
  const minutes = Math.max(5, Math.round((total * 15) / 60 / 5) * 5);
  const saved = storageGet(STORE_DRAFT);
  setTitle();
  setView(
    h(
      'section',
      { class: 'intro', 'aria-labelledby': 'intro-title' },
      h('h1', { id: 'intro-title', tabindex: '-1' }, q.title),
      h('p', { class: 'facts' }, tx.facts(total, q.sections.length, minutes)),
      h('p', { class: 'lead' }, q.description),
      h('h2', {}, tx.whatYouGet),
      h('ul', { class: 'gets' }, tx.gets.map((g) => h('li', {}, g))),
      h('p', { class: 'muted' }, EMBED ? tx.savedNoteEmbed : tx.savedNote),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'btn btn-primary btn-large', id: 'start-btn', onclick: startForm }, tx.start),
        saved
          ? h('button', { type: 'button', class: 'btn btn-secondary', id: 'continue-btn', onclick: () => resumeDraft(saved) }, tx.continueDraft)
          : null,
      ),
      EMBED
        ? null
        : h(
            'aside',
            { class: 'org-entry', 'aria-labelledby': 'org-entry-title' },
            h('h2', { id: 'org-entry-title' }, ot().entryTitle),
            h('p', {}, ot().entryText),
            h('p', {}, h('a', { href: '#org-new', id: 'org-entry-link', class: 'btn btn-secondary' }, ot().entryLink)),
          ),
    ),
  );
  emitReady();
}

export function startForm() {
  announce('');
  state.view = 'form';
  state.section = 0;
  if (!state.started) {
    // a new assessment; starting again after Back to this page keeps the clock running
    state.started = true;
    state.startedAt = Date.now();
    state.elapsedBefore = 0;
  }
  applyPrefill();
  state.emitted.section = -1; // a new start shows its first section again
  emit('started', { questionnaire: { id: state.q.id, version: state.q.version } });
  pushSection(0); // Back from the first section returns to this start page
  renderForm('heading');
}
