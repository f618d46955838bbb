// The questionnaire form: one section at a time, questions, progress, navigation and errors.

import { destroyCharts } from './charts.js';
import { $, copyFrom, focusEl, h, setView } from './dom.js';
import { renderSaveBox, scheduleSave } from './draft.js';
import { emit } from './frame.js';
import { pushSection } from './history.js';
import { t } from './i18n.js';
import { setTitle, SITE } from './page.js';
import { allQuestions, answeredCount, emitReady, hiddenQuestion } from './questionnaire.js';
import { SELECT_MIN_OPTIONS, state } from './state.js';
import { renderSubmitFailure, submit } from './submit.js';

/** Move to section i as a new history entry (Back returns to the section before). */
function enterSection(i) {
  state.section = Math.max(0, Math.min(i, state.q.sections.length - 1));
  pushSection(state.section);
}

export function renderForm(focus) {
  destroyCharts();
  const tx = t();
  const q = state.q;
  const i = state.section;
  const sec = q.sections[i];
  const last = i === q.sections.length - 1;
  const total = allQuestions().length;
  const answered = answeredCount();
  setTitle(sec.title);
  emitReady();
  if (state.emitted.section !== i) {
    state.emitted.section = i;
    emit('section_changed', { index: i, count: q.sections.length, section_id: sec.id || null, title: sec.title });
  }

  const form = h(
    'form',
    { id: 'qform', class: 'qform', novalidate: true, onsubmit: onFormSubmit },
    h(
      'section',
      { class: 'section', 'aria-labelledby': 'section-title' },
      h('p', { class: 'eyebrow', id: 'section-of' }, tx.sectionOf(i + 1, q.sections.length)),
      h('h1', { id: 'section-title', tabindex: '-1' }, sec.title),
      sec.description ? h('p', { class: 'section-desc' }, sec.description) : null,
      i === 0 ? h('p', { class: 'hint' }, tx.allRequired) : null,
      sec.questions.filter((x) => !hiddenQuestion(x.id)).map(renderQuestion),
    ),
    last ? renderSubmitFailure() : null,
    h(
      'div',
      { class: 'form-nav' },
      i > 0
        ? h('button', { type: 'button', class: 'btn btn-secondary', id: 'back-btn', onclick: () => goToSection(i - 1) }, h('span', { 'aria-hidden': 'true' }, '← '), tx.back)
        : h('span'),
      last
        ? h(
            'button',
            { type: 'submit', class: 'btn btn-primary', id: 'submit-btn', disabled: state.submitting, 'aria-busy': state.submitting ? 'true' : null },
            state.submitting ? tx.submitting : tx.submit,
          )
        : h('button', { type: 'submit', class: 'btn btn-primary', id: 'next-btn' }, tx.next, h('span', { 'aria-hidden': 'true' }, ' →')),
    ),
  );

  setView(
    h(
      'div',
      { class: 'form-top' },
      h(
        'div',
        { class: 'progress-row' },
        h('progress', { id: 'progress', max: String(total), value: String(answered), 'aria-label': tx.progress }),
        h('p', { id: 'progress-text', class: 'progress-text' }, tx.answeredOf(answered, total)),
      ),
      renderToc(),
    ),
    renderErrorSummary(),
    form,
    h(
      'div',
      { class: 'save-box', id: 'save-box' },
      h('p', { id: 'save-status', class: 'save-status' }),
      h(
        'div',
        { id: 'resume', class: 'resume', hidden: true },
        h('h2', {}, tx.resumeTitle),
        h('p', { id: 'resume-text' }),
        h(
          'div',
          { class: 'copy-row' },
          h('label', { for: 'resume-link', class: 'visually-hidden' }, tx.resumeLinkLabel),
          h('input', { id: 'resume-link', type: 'text', readonly: true, class: 'link-input', onfocus: (e) => e.target.select() }),
          h('button', { type: 'button', class: 'btn btn-secondary', id: 'copy-resume', onclick: () => copyFrom('resume-link', 'resume-copied') }, tx.copy),
        ),
        h('p', { id: 'resume-copied', class: 'copy-status', role: 'status' }),
      ),
    ),
  );
  renderSaveBox();

  if (focus === 'heading') {
    window.scrollTo(0, 0);
    $('#section-title').focus({ preventScroll: true });
  } else if (focus === 'error') {
    focusFirstError();
  } else if (focus === 'failure') {
    focusEl($('#submit-problem'));
  }
}

export function renderToc() {
  const tx = t();
  const q = state.q;
  const done = q.sections.filter((s) => s.questions.every((x) => state.answers[x.id] !== undefined)).length;
  return h(
    'details',
    { class: 'toc', id: 'toc' },
    h('summary', {}, tx.sections, ' ', h('span', { class: 'toc-count', id: 'toc-count' }, `(${done}/${q.sections.length})`)),
    h(
      'ol',
      {},
      q.sections.map((s, si) => {
        const a = answeredCount(s.questions);
        const complete = a === s.questions.length;
        return h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              class: `toc-item${complete ? ' toc-complete' : ''}`,
              'aria-current': si === state.section ? 'step' : null,
              dataset: { section: String(si) },
              onclick: () => goToSection(si),
            },
            h('span', { class: 'toc-title' }, s.title),
            h('span', { class: 'toc-done', id: `toc-done-${si}` }, complete ? '✓ ' : '', tx.sectionsDone(a, s.questions.length)),
          ),
        );
      }),
    ),
  );
}

export function updateProgress() {
  const tx = t();
  const total = allQuestions().length;
  const answered = answeredCount();
  const bar = $('#progress');
  if (bar) bar.value = answered;
  const text = $('#progress-text');
  if (text) text.textContent = tx.answeredOf(answered, total);
  const toc = $('#toc');
  if (toc) {
    const open = toc.open;
    const fresh = renderToc();
    fresh.open = open;
    toc.replaceWith(fresh);
  }
}

export function questionDescribedBy(question) {
  const ids = [];
  if (question.help) ids.push(`help-${question.id}`);
  if (state.errors[question.id]) ids.push(`err-${question.id}`);
  return ids.length ? ids.join(' ') : null;
}

export function renderQuestion(question) {
  const tx = t();
  const entry = state.index.get(question.id);
  const err = state.errors[question.id];
  const describedBy = questionDescribedBy(question);
  const number = h('span', { class: 'q-num' }, `${entry.number}.`);
  const optional = question.required ? null : h('span', { class: 'q-optional' }, ` ${tx.optional}`);
  const help = question.help ? h('p', { class: 'help', id: `help-${question.id}` }, question.help) : null;
  const consent = question.role === 'consent' ? consentDetails() : null;
  const error = h(
    'p',
    { class: 'field-error', id: `err-${question.id}`, hidden: !err },
    h('span', { class: 'visually-hidden' }, `${tx.errorPrefix} `),
    h('span', { class: 'field-error-text' }, err || ''),
  );
  const cls = `question${err ? ' has-error' : ''}${question.kind === 'context' ? ' question-context' : ''}`;

  if (question.options.length > SELECT_MIN_OPTIONS) {
    const id = `in-${question.id}`;
    return h(
      'div',
      { class: `${cls} question-select`, id: `q-${question.id}`, dataset: { qid: question.id } },
      h('label', { class: 'q-text', for: id }, number, ' ', question.text, optional),
      help,
      consent,
      error,
      h(
        'select',
        {
          id,
          name: `a-${question.id}`,
          required: question.required,
          'aria-describedby': describedBy,
          'aria-invalid': err ? 'true' : null,
          onchange: (e) => onAnswer(question.id, e.target.value || undefined),
        },
        h('option', { value: '' }, tx.choose),
        question.options.map((o) => h('option', { value: o.id, selected: state.answers[question.id] === o.id }, o.label)),
      ),
    );
  }
  return h(
    'fieldset',
    { class: cls, id: `q-${question.id}`, dataset: { qid: question.id }, 'aria-describedby': describedBy },
    h('legend', { class: 'q-text' }, number, ' ', question.text, optional),
    help,
    consent,
    error,
    h(
      'div',
      { class: 'options' },
      question.options.map((o) => {
        const id = `o-${question.id}-${o.id}`;
        const neutral = question.kind !== 'context' && o.excluded;
        return h(
          'div',
          { class: `option${neutral ? ' option-neutral' : ''}` },
          h('input', {
            type: 'radio',
            id,
            name: `a-${question.id}`,
            value: o.id,
            required: question.required,
            checked: state.answers[question.id] === o.id,
            'aria-invalid': err ? 'true' : null,
            onchange: () => onAnswer(question.id, o.id),
          }),
          h('label', { for: id }, o.label),
        );
      }),
    ),
  );
}

/** What enters the benchmark with consent, and what does not (chalicelib/service.py
 * contribution_for: the metrics, the cohort, the month and the population; k from the
 * server's settings). */
function consentDetails() {
  const tx = t();
  return h(
    'div',
    { class: 'consent-details', id: 'consent-details' },
    h('p', { class: 'consent-title' }, tx.consentTitle),
    h('ul', {}, tx.consentItems(SITE.k_min || 5).map((x) => h('li', {}, x))),
    h('p', {}, tx.consentNo),
    SITE.privacy_url ? h('p', {}, h('a', { href: SITE.privacy_url, target: '_blank', rel: 'noopener noreferrer' }, tx.privacy)) : null,
  );
}

/** Show or clear one question's error in place (no re-render, so focus stays). */
export function setQuestionError(qid, message) {
  if (message) state.errors[qid] = message;
  else delete state.errors[qid];
  const box = document.getElementById(`q-${qid}`);
  if (!box) return;
  const entry = state.index.get(qid);
  box.classList.toggle('has-error', Boolean(message));
  const err = document.getElementById(`err-${qid}`);
  err.hidden = !message;
  $('.field-error-text', err).textContent = message || '';
  const describedBy = questionDescribedBy(entry.question);
  const target = box.tagName === 'FIELDSET' ? box : $('select', box);
  if (describedBy) target.setAttribute('aria-describedby', describedBy);
  else target.removeAttribute('aria-describedby');
  for (const input of box.querySelectorAll('input, select')) {
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
}

export function onAnswer(qid, value) {
  if (value === undefined) delete state.answers[qid];
  else state.answers[qid] = value;
  state.submission = null; // a changed body needs a new idempotency key
  if (state.errors[qid] && value !== undefined) {
    setQuestionError(qid, null);
    const summary = $('#error-summary');
    if (summary) summary.replaceWith(renderErrorSummary() || h('div', { id: 'error-summary', hidden: true }));
  }
  updateProgress();
  scheduleSave();
}

export function goToSection(i, focus = 'heading') {
  enterSection(i);
  renderForm(focus);
}

export function onFormSubmit(e) {
  e.preventDefault();
  if (state.section < state.q.sections.length - 1) {
    goToSection(state.section + 1);
    return;
  }
  submit();
}

export function sortedErrorIds() {
  return Object.keys(state.errors)
    .filter((id) => state.index.has(id))
    .sort((a, b) => state.index.get(a).number - state.index.get(b).number);
}

export function renderErrorSummary() {
  const ids = sortedErrorIds();
  const general = state.generalErrors;
  if (!ids.length && !general.length) return null;
  const tx = t();
  const shown = ids.slice(0, 8);
  return h(
    'div',
    { class: 'panel alert alert-error error-summary', id: 'error-summary', role: 'alert', 'aria-labelledby': 'error-summary-title' },
    h('h2', { id: 'error-summary-title' }, tx.errorSummary(ids.length + general.length)),
    h(
      'ul',
      {},
      shown.map((id) => {
        const { question, number } = state.index.get(id);
        return h(
          'li',
          {},
          h(
            'a',
            {
              href: `#q-${id}`,
              class: 'summary-link',
              onclick: (e) => {
                e.preventDefault(); // keep the address (?draft=...) as it is
                jumpToQuestion(id);
              },
            },
            `${number}. ${question.text}`,
          ),
          h('span', { class: 'summary-error' }, ` – ${state.errors[id]}`),
        );
      }),
      ids.length > shown.length ? h('li', {}, tx.moreErrors(ids.length - shown.length)) : null,
      general.map((m) => h('li', {}, m)),
    ),
  );
}

export function jumpToQuestion(qid) {
  const entry = state.index.get(qid);
  if (!entry) return;
  if (entry.section !== state.section) {
    enterSection(entry.section);
    renderForm(null);
  }
  focusQuestion(qid);
}

export function focusQuestion(qid) {
  const box = document.getElementById(`q-${qid}`);
  if (!box) return;
  const input = $('input:checked', box) || $('input, select', box);
  box.scrollIntoView({ block: 'center' });
  if (input) input.focus({ preventScroll: true });
}

export function focusFirstError() {
  const ids = sortedErrorIds();
  if (ids.length) focusQuestion(ids[0]);
  else focusEl($('#error-summary'));
}

export function showErrors() {
  const ids = sortedErrorIds();
  if (ids.length) enterSection(state.index.get(ids[0]).section);
  renderForm('error');
}
