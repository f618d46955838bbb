// A respondent of an organisation workspace (docs/ORGANISATIONS.md): opens the invitation link
// (#respond=<invite token>), answers the sections they own, saves a draft or submits. The
// invite token stays in the URL fragment and travels only in the X-Respondent-Token header.

import { api } from './api.js';
import { destroyCharts } from './charts.js';
import { $, focusEl, h, setView } from './dom.js';
import { ot } from './orgtext.js';
import { renderLoadError, renderLoading, setTitle } from './page.js';
import { loadQuestionnaire } from './questionnaire.js';
import { SELECT_MIN_OPTIONS, state } from './state.js';

const TOKEN = /^#respond=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

/** The invite token of a #respond=... address, or null. */
export function parseRespondHash() {
  const m = TOKEN.exec(location.hash);
  return m ? m[1] : null;
}

// the respondent's page: answers kept across a language switch (same token and round)
const rs = { token: null, round: null, invitation: null, q: null, answers: {}, errors: {}, busy: false };

function headers() {
  return { 'X-Respondent-Token': rs.token };
}

function messageView(text) {
  destroyCharts();
  state.view = 'message';
  setView(h('div', { class: 'panel alert alert-error', role: 'alert', id: 'respond-error' }, h('p', {}, text)));
}

export async function showRespondent(token) {
  state.view = 'respondent';
  const seq = ++state.seq;
  if (rs.token !== token) Object.assign(rs, { token, round: null, answers: {}, errors: {} });
  renderLoading();
  const r = await api('v1/respondent', { headers: headers() });
  if (seq !== state.seq) return;
  if (r.status === 401 || r.status === 404) {
    messageView(ot().unknownInvite);
    return;
  }
  if (!r.ok || !r.data) {
    renderLoadError(ot().loadFailed, () => showRespondent(token));
    return;
  }
  const inv = r.data;
  const q = await loadQuestionnaire(state.lang, inv.questionnaire.version);
  if (seq !== state.seq) return;
  if (!q) {
    renderLoadError(ot().loadFailed, () => showRespondent(token));
    return;
  }
  if (rs.round !== inv.round) {
    rs.answers = { ...inv.answers };
    rs.errors = {};
    rs.round = inv.round;
  }
  rs.invitation = inv;
  rs.q = q;
  state.view = 'respondent';
  render();
}

function ownedSections() {
  const owned = new Set(rs.invitation.sections);
  return rs.q.sections.filter((s) => owned.has(s.id));
}

function ownedQuestions() {
  return ownedSections().flatMap((s) => s.questions.filter((x) => x.kind === 'scored'));
}

function progressText() {
  const all = ownedQuestions();
  return ot().answeredOf(all.filter((x) => rs.answers[x.id] !== undefined).length, all.length);
}

function onAnswer(qid, value) {
  if (value) rs.answers[qid] = value;
  else delete rs.answers[qid];
  if (rs.errors[qid]) {
    delete rs.errors[qid];
    const box = document.getElementById(`rq-${qid}`);
    if (box) {
      box.classList.remove('has-error');
      const err = document.getElementById(`rerr-${qid}`);
      err.hidden = true;
      for (const input of box.querySelectorAll('input, select')) input.removeAttribute('aria-invalid');
    }
  }
  const p = $('#respond-progress');
  if (p) p.textContent = progressText();
}

function renderQuestion(x, number) {
  const err = rs.errors[x.id];
  const errEl = h('p', { class: 'field-error', id: `rerr-${x.id}`, hidden: !err }, err || '');
  const help = x.help ? h('p', { class: 'help', id: `rhelp-${x.id}` }, x.help) : null;
  const describedBy = [x.help ? `rhelp-${x.id}` : null, `rerr-${x.id}`].filter(Boolean).join(' ');
  const cls = `question${err ? ' has-error' : ''}`;
  if (x.options.length > SELECT_MIN_OPTIONS) {
    const id = `rin-${x.id}`;
    return h(
      'div',
      { class: `${cls} question-select`, id: `rq-${x.id}` },
      h('label', { class: 'q-text', for: id }, h('span', { class: 'q-num' }, `${number}.`), ' ', x.text),
      help,
      errEl,
      h(
        'select',
        { id, 'aria-describedby': describedBy, 'aria-invalid': err ? 'true' : null, onchange: (e) => onAnswer(x.id, e.target.value) },
        h('option', { value: '' }, '–'),
        x.options.map((o) => h('option', { value: o.id, selected: rs.answers[x.id] === o.id }, o.label)),
      ),
    );
  }
  return h(
    'fieldset',
    { class: cls, id: `rq-${x.id}`, 'aria-describedby': describedBy, dataset: { qid: x.id } },
    h('legend', { class: 'q-text' }, h('span', { class: 'q-num' }, `${number}.`), ' ', x.text),
    help,
    errEl,
    h(
      'div',
      { class: 'options' },
      x.options.map((o) => {
        const id = `ro-${x.id}-${o.id}`;
        return h(
          'div',
          { class: `option${o.excluded ? ' option-neutral' : ''}` },
          h('input', {
            type: 'radio',
            id,
            name: `r-${x.id}`,
            value: o.id,
            checked: rs.answers[x.id] === o.id,
            'aria-invalid': err ? 'true' : null,
            onchange: () => onAnswer(x.id, o.id),
          }),
          h('label', { for: id }, o.label),
        );
      }),
    ),
  );
}

function render(focus = true) {
  destroyCharts();
  const tx = ot();
  const inv = rs.invitation;
  setTitle(tx.respondTitle(inv.organisation));
  let n = 0;
  const statusText = tx.status[inv.status] || inv.status;
  setView(
    h(
      'section',
      { class: 'respondent', 'aria-labelledby': 'respond-title' },
      h('h1', { id: 'respond-title', tabindex: '-1' }, tx.respondTitle(inv.organisation)),
      h('p', { class: 'lead' }, tx.respondLead(inv.role, inv.round)),
      h('p', { id: 'respond-state', class: 'muted' }, tx.yourStatus(statusText)),
      h('p', { id: 'respond-progress', class: 'progress-text' }, progressText()),
      h(
        'form',
        { id: 'respond-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); save(true); } },
        ownedSections().map((s) =>
          h(
            'section',
            { class: 'section', 'aria-labelledby': `rsec-${s.id}` },
            h('h2', { id: `rsec-${s.id}` }, s.title),
            s.description ? h('p', { class: 'section-desc' }, s.description) : null,
            s.questions.filter((x) => x.kind === 'scored').map((x) => renderQuestion(x, (n += 1))),
          ),
        ),
        h('p', { id: 'respond-status', class: 'copy-status', role: 'status', 'aria-live': 'polite' }),
        h(
          'div',
          { class: 'form-nav' },
          h('button', { type: 'button', class: 'btn btn-secondary', id: 'respond-draft', onclick: () => save(false) }, tx.saveDraft),
          h('button', { type: 'submit', class: 'btn btn-primary', id: 'respond-submit' }, tx.submitAnswers),
        ),
      ),
    ),
  );
  if (focus) focusEl($('#respond-title'));
}

function pointerQuestion(pointer) {
  const m = /^\/answers\/(.+)$/.exec(pointer || '');
  return m ? m[1].replace(/~1/g, '/').replace(/~0/g, '~') : null;
}

async function save(submit) {
  if (rs.busy) return;
  const tx = ot();
  rs.busy = true;
  const status = $('#respond-status');
  status.textContent = tx.saving;
  for (const b of document.querySelectorAll('#respond-form button')) b.disabled = true;
  const r = await api('v1/respondent/answers', { method: 'PUT', headers: headers(), body: { answers: rs.answers, submit } });
  rs.busy = false;
  for (const b of document.querySelectorAll('#respond-form button')) b.disabled = false;
  if (r.ok && r.data) {
    rs.invitation = r.data;
    rs.errors = {};
    render(false);
    $('#respond-status').textContent = submit ? tx.submittedNote : tx.draftSaved;
    $('#respond-state').textContent = tx.yourStatus(tx.status[r.data.status] || r.data.status);
    return;
  }
  if (r.network) {
    status.textContent = tx.networkFailed;
    return;
  }
  if (r.status === 409) {
    status.textContent = tx.roundClosed;
    return;
  }
  if (r.status === 404 || r.status === 401) {
    messageView(tx.unknownInvite);
    return;
  }
  const errors = (r.data && r.data.errors) || [];
  rs.errors = {};
  for (const e of errors) {
    const qid = pointerQuestion(e.pointer);
    if (qid) rs.errors[qid] = /required/i.test(e.detail || '') ? tx.required : e.detail;
  }
  render(false);
  $('#respond-status').textContent = tx.saveFailed;
  const first = ownedQuestions().find((x) => rs.errors[x.id]);
  if (first) focusEl(document.getElementById(`rq-${first.id}`));
}
