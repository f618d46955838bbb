// Organisation workspaces (docs/ORGANISATIONS.md, docs/ROADMAP.md): create an organisation
// (#org-new), and the owner's workspace (#org=<owner token>): invitation links, respondents'
// status, the combined result, the perception gap, the target and the roadmap (owner and due
// quarter per step), XLSX/PDF downloads, closing a round and the history chart. The owner
// token stays in the URL fragment and travels only in the X-Organisation-Token header.

import { api } from './api.js';
import { destroyCharts, drawHistory } from './charts.js';
import { $, copyFrom, fmt, focusEl, formatDate, h, pageUrl, setView } from './dom.js';
import { ot } from './orgtext.js';
import { renderLoadError, renderLoading, setTitle } from './page.js';
import { loadQuestionnaire } from './questionnaire.js';
import { QUESTIONNAIRE_ID, SELECT_MIN_OPTIONS, state } from './state.js';

const TOKEN = /^#org=([0-9a-f]{32}\.[A-Za-z0-9_-]+)$/;
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const PDF = 'application/pdf';

/** {token, oid} of a #org=... address, 'new' for #org-new, or null. */
export function parseOrgHash() {
  if (location.hash === '#org-new') return 'new';
  const m = TOKEN.exec(location.hash);
  return m ? { token: m[1], oid: m[1].split('.')[0] } : null;
}

// the workspace: what was loaded, and the invitation links made in this page (shown once)
const os = { token: null, oid: null, fresh: false, org: null, result: null, plan: null, history: null, q: null, invites: [], profile: {}, errors: {} };

function headers() {
  return { 'X-Organisation-Token': os.token };
}

function base() {
  return `v1/organisations/${encodeURIComponent(os.oid)}`;
}

function messageView(text) {
  destroyCharts();
  state.view = 'message';
  setView(h('div', { class: 'panel alert alert-error', role: 'alert', id: 'org-error' }, h('p', {}, text)));
}

function fieldError(id, message) {
  return h('p', { class: 'field-error', id: `err-${id}`, hidden: !message }, message || '');
}

function problemDetail(r) {
  const d = r.data || {};
  const first = (d.errors || [])[0];
  return first ? `${d.detail || d.title || ''} (${first.pointer || first.parameter}: ${first.detail})` : d.detail || d.title || String(r.status);
}

// --- create ---------------------------------------------------------------------------------
export async function showCreate() {
  state.view = 'org-new';
  const seq = ++state.seq;
  renderLoading();
  const q = await loadQuestionnaire(state.lang);
  if (seq !== state.seq) return;
  if (!q) {
    renderLoadError(ot().loadFailed, () => showCreate());
    return;
  }
  os.q = q;
  renderCreate(true);
}

function contextQuestion(x) {
  const err = os.errors[`profile-${x.id}`];
  if (x.options.length > SELECT_MIN_OPTIONS) {
    const id = `profile-${x.id}`;
    return h(
      'div',
      { class: `question question-select${err ? ' has-error' : ''}` },
      h('label', { class: 'q-text', for: id }, x.text),
      fieldError(id, err),
      h(
        'select',
        { id, 'aria-describedby': `err-${id}`, 'aria-invalid': err ? 'true' : null, onchange: (e) => { os.profile[x.id] = e.target.value || undefined; } },
        h('option', { value: '' }, '–'),
        x.options.map((o) => h('option', { value: o.id, selected: os.profile[x.id] === o.id }, o.label)),
      ),
    );
  }
  return h(
    'fieldset',
    { class: `question${err ? ' has-error' : ''}`, id: `profile-${x.id}`, 'aria-describedby': `err-profile-${x.id}` },
    h('legend', { class: 'q-text' }, x.text),
    x.help ? h('p', { class: 'help' }, x.help) : null,
    fieldError(`profile-${x.id}`, err),
    h(
      'div',
      { class: 'options' },
      x.options.map((o) => {
        const id = `profile-${x.id}-${o.id}`;
        return h(
          'div',
          { class: 'option' },
          h('input', { type: 'radio', id, name: `profile-${x.id}`, value: o.id, checked: os.profile[x.id] === o.id, onchange: () => { os.profile[x.id] = o.id; } }),
          h('label', { for: id }, o.label),
        );
      }),
    ),
  );
}

function renderCreate(focus) {
  destroyCharts();
  const tx = ot();
  const context = os.q.sections.flatMap((s) => s.questions).filter((x) => x.kind === 'context');
  setTitle(tx.createTitle);
  const nameErr = os.errors.name;
  setView(
    h(
      'section',
      { class: 'org-create', 'aria-labelledby': 'create-title' },
      h('h1', { id: 'create-title', tabindex: '-1' }, tx.createTitle),
      h('p', { class: 'lead' }, tx.createLead),
      h(
        'form',
        { id: 'create-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); create(); } },
        h(
          'div',
          { class: `question${nameErr ? ' has-error' : ''}` },
          h('label', { class: 'q-text', for: 'org-name' }, tx.nameLabel),
          fieldError('org-name', nameErr),
          h('input', { id: 'org-name', type: 'text', class: 'text-input', maxlength: '120', required: true, autocomplete: 'organization', 'aria-describedby': 'err-org-name', 'aria-invalid': nameErr ? 'true' : null, value: os.name || '' }),
        ),
        context.map(contextQuestion),
        h('p', { id: 'create-status', class: 'copy-status', role: 'status' }),
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', id: 'create-btn' }, tx.createBtn)),
      ),
    ),
  );
  if (focus) focusEl($('#create-title'));
}

async function create() {
  const tx = ot();
  os.name = $('#org-name').value;
  // missing answers are flagged in the page first, all at once (the server names them too)
  const context = os.q.sections.flatMap((sec) => sec.questions).filter((x) => x.kind === 'context');
  os.errors = {};
  if (!os.name.trim()) os.errors.name = tx.required;
  for (const x of context) if (x.required && !os.profile[x.id]) os.errors[`profile-${x.id}`] = tx.required;
  if (Object.keys(os.errors).length) {
    renderCreate(false);
    $('#create-status').textContent = tx.createFailed;
    const first = document.querySelector('.has-error input, .has-error select');
    if (first) first.focus();
    return;
  }
  $('#create-btn').disabled = true;
  $('#create-status').textContent = tx.creating;
  const profile = Object.fromEntries(Object.entries(os.profile).filter(([, v]) => v));
  const r = await api('v1/organisations', {
    method: 'POST',
    body: { name: os.name, questionnaire: QUESTIONNAIRE_ID, version: os.q.version, language: state.lang, profile },
  });
  if (r.ok && r.data && r.data.token) {
    Object.assign(os, { token: r.data.token, oid: r.data.id, fresh: true, invites: [], errors: {}, profile: {}, name: '' });
    history.pushState({ smm: 'org' }, '', `#org=${r.data.token}`);
    await showOrg(os.token, true);
    return;
  }
  os.errors = {};
  for (const e of (r.data && r.data.errors) || []) {
    const m = /^\/profile\/(.+)$/.exec(e.pointer || '');
    if (m) os.errors[`profile-${m[1]}`] = /required/i.test(e.detail) ? tx.required : e.detail;
    else if (e.pointer === '/name') os.errors.name = os.name.trim() ? e.detail : tx.required;
  }
  renderCreate(false);
  $('#create-status').textContent = r.network ? tx.loadFailed : tx.createFailed;
  const first = document.querySelector('.has-error input, .has-error select');
  if (first) first.focus();
}

// --- the workspace --------------------------------------------------------------------------
export async function showOrg(token, fresh = false) {
  state.view = 'org';
  if (os.token !== token) Object.assign(os, { invites: [], fresh });
  os.token = token;
  os.oid = token.split('.')[0];
  if (fresh) os.fresh = true;
  const seq = ++state.seq;
  if (!os.org) renderLoading();
  const lang = `lang=${state.lang}`;
  const [org, result, plan, hist] = await Promise.all([
    api(base(), { headers: headers() }),
    api(`${base()}/result`, { headers: headers() }),
    api(`${base()}/roadmap?${lang}`, { headers: headers() }),
    api(`${base()}/history?${lang}`, { headers: headers() }),
  ]);
  if (seq !== state.seq) return;
  if ([org, result, plan, hist].some((r) => r.status === 401 || r.status === 404)) {
    os.org = null;
    messageView(ot().unknownOrg);
    return;
  }
  if (![org, result, plan, hist].every((r) => r.ok && r.data)) {
    renderLoadError(ot().loadFailed, () => showOrg(token));
    return;
  }
  const q = await loadQuestionnaire(state.lang, org.data.questionnaire.version);
  if (seq !== state.seq) return;
  if (!q) {
    renderLoadError(ot().loadFailed, () => showOrg(token));
    return;
  }
  Object.assign(os, { org: org.data, result: result.data, plan: plan.data, history: hist.data, q });
  state.view = 'org';
  renderWorkspace();
}

function sectionTitle(id) {
  const s = os.q.sections.find((x) => x.id === id);
  return s ? s.title : id;
}

function questionText(id) {
  for (const s of os.q.sections) {
    const x = s.questions.find((y) => y.id === id);
    if (x) return x.text;
  }
  return id;
}

function tierName(id) {
  if (id === null || id === undefined) return ot().none;
  const tier = os.q.tiers.find((x) => x.id === id);
  return tier ? tier.name : id;
}

function renderWorkspace() {
  destroyCharts();
  const tx = ot();
  const o = os.org;
  setTitle(tx.workspaceTitle(o.name));
  setView(
    h(
      'div',
      { class: 'org-workspace' },
      h('h1', { id: 'org-title', tabindex: '-1' }, tx.workspaceTitle(o.name)),
      h('p', { class: 'muted', id: 'org-round' }, tx.round(o.current_round)),
      renderOwnerLink(),
      renderRespondents(),
      renderResult(),
      renderGap(),
      renderTarget(),
      renderRoadmap(),
      renderDownloads(),
      renderClose(),
      renderHistory(),
    ),
  );
  drawHistoryChart();
  if (os.fresh) focusEl($('#owner-link-title'));
}

function copyRow(inputId, statusId, label, value) {
  const tx = ot();
  return [
    h(
      'div',
      { class: 'copy-row' },
      h('label', { for: inputId, class: 'visually-hidden' }, label),
      h('input', { id: inputId, type: 'text', readonly: true, class: 'link-input', value, onfocus: (e) => e.target.select() }),
      h('button', { type: 'button', class: 'btn btn-secondary', id: `copy-${inputId}`, 'aria-label': `${tx.copy}: ${label}`, onclick: () => copyFrom(inputId, statusId) }, tx.copy),
    ),
    h('p', { id: statusId, class: 'copy-status', role: 'status' }),
  ];
}

function renderOwnerLink() {
  const tx = ot();
  return h(
    'section',
    { class: 'panel keep-link', 'aria-labelledby': 'owner-link-title', id: 'owner-link-box' },
    h('h2', { id: 'owner-link-title', tabindex: '-1' }, tx.ownerLinkTitle),
    h('p', {}, tx.ownerLinkText),
    copyRow('owner-link', 'owner-link-copied', tx.ownerLinkLabel, `${pageUrl()}#org=${os.token}`),
  );
}

function renderRespondents() {
  const tx = ot();
  const sections = os.q.sections.filter((s) => s.questions.some((x) => x.kind === 'scored'));
  const rows = os.org.respondents.map((r) =>
    h(
      'tr',
      { dataset: { respondent: r.id } },
      h('th', { scope: 'row' }, r.role),
      h('td', {}, r.sections.length ? r.sections.map(sectionTitle).join(', ') : tx.allSections),
      h('td', { class: `status-${r.status}` }, tx.status[r.status] || r.status),
    ),
  );
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'respondents-title', id: 'respondents-box' },
    h('h2', { id: 'respondents-title' }, tx.respondentsTitle),
    rows.length
      ? h(
          'div',
          { class: 'table-scroll' },
          h('table', { class: 'bench-table org-table', id: 'respondents' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, tx.colRole), h('th', { scope: 'col' }, tx.colSections), h('th', { scope: 'col' }, tx.colStatus))), h('tbody', {}, rows)),
        )
      : h('p', { class: 'muted' }, tx.noRespondents),
    h(
      'form',
      { id: 'invite-form', class: 'invite-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); invite(); } },
      h('h3', {}, tx.inviteTitle),
      h('label', { for: 'invite-role', class: 'q-text' }, tx.roleLabel),
      fieldError('invite-role', os.errors.role),
      h('input', { id: 'invite-role', type: 'text', class: 'text-input', maxlength: '60', 'aria-describedby': 'err-invite-role', 'aria-invalid': os.errors.role ? 'true' : null }),
      h(
        'fieldset',
        { class: 'invite-sections' },
        h('legend', {}, tx.sectionsLegend),
        sections.map((s) => h('div', { class: 'option' }, h('input', { type: 'checkbox', id: `invite-sec-${s.id}`, value: s.id }), h('label', { for: `invite-sec-${s.id}` }, s.title))),
      ),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', id: 'invite-btn' }, tx.inviteBtn)),
    ),
    h(
      'div',
      { id: 'invite-links' },
      os.invites.map((inv, i) =>
        h(
          'div',
          { class: 'keep-link invite-link', dataset: { role: inv.role } },
          h('h3', {}, tx.inviteLinkTitle(inv.role)),
          h('p', {}, tx.inviteLinkText),
          copyRow(`invite-link-${i}`, `invite-copied-${i}`, tx.inviteLinkLabel(inv.role), inv.link),
        ),
      ),
    ),
  );
}

async function invite() {
  const role = $('#invite-role').value;
  const sections = [...document.querySelectorAll('.invite-sections input:checked')].map((x) => x.value);
  $('#invite-btn').disabled = true;
  const r = await api(`${base()}/respondents`, { method: 'POST', headers: headers(), body: { role, sections } });
  os.errors = {};
  if (r.ok && r.data) {
    os.invites.push({ role: r.data.role, link: `${pageUrl()}#respond=${r.data.invite_token}` });
    await showOrg(os.token);
    const last = document.getElementById(`invite-link-${os.invites.length - 1}`);
    if (last) last.focus();
    return;
  }
  os.errors.role = r.network ? ot().loadFailed : role.trim() ? problemDetail(r) : ot().required;
  renderWorkspace();
  $('#invite-role').value = role;
  $('#invite-role').focus();
}

function card(label, value, id) {
  return h('li', { class: 'card', id }, h('span', { class: 'card-label' }, label), h('span', { class: 'card-value card-value-text' }, value));
}

function renderResult() {
  const tx = ot();
  const res = os.result;
  const score = res.score;
  let body;
  if (!res.respondents_submitted) body = h('p', { class: 'muted', id: 'org-no-result' }, tx.noSubmissions);
  else if (!score) body = h('p', { class: 'alert alert-warning', id: 'org-uncovered' }, tx.uncovered(res.uncovered_sections.map(sectionTitle).join(', ')));
  else {
    const phase = os.q.phases.find((p) => p.number === score.phase);
    body = [
      h(
        'ul',
        { class: 'cards', 'aria-label': tx.resultTitle, id: 'org-cards' },
        card(tx.phase, score.phase === null ? '–' : `${score.phase}${phase ? ` – ${phase.name}` : ''}`, 'org-phase'),
        card(tx.pyramid, tierName(score.pyramid_level), 'org-pyramid'),
        card(tx.overall, score.overall === null ? '–' : `${score.overall} / 100`, 'org-overall'),
      ),
      h(
        'ul',
        { class: 'dim-list', id: 'org-dims' },
        os.q.dimensions.map((d) => h('li', {}, h('span', { class: 'dim-name' }, d.name), ' ', h('span', { class: 'dim-score' }, fmt(score.dimensions[d.id])))),
      ),
    ];
  }
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'org-result-title', id: 'org-result' },
    h('h2', { id: 'org-result-title' }, tx.resultTitle),
    h('p', { class: 'muted', id: 'org-submitted' }, tx.submittedCount(res.respondents_submitted)),
    body,
  );
}

function gapRow(g) {
  const tx = ot();
  const label = g.kind === 'section' ? sectionTitle(g.id) : (os.q.dimensions.find((d) => d.id === g.id) || {}).name || g.id;
  const track = h('div', { class: 'gap-track', 'aria-hidden': 'true' });
  const span = h('div', { class: 'gap-span' });
  span.style.left = `${g.min}%`; // CSSOM, allowed by style-src 'self' (no style attribute)
  span.style.width = `${Math.max(1, g.range)}%`;
  track.append(span);
  if (g.combined !== null) {
    const mark = h('div', { class: 'gap-mark', title: tx.combinedMark });
    mark.style.left = `${g.combined}%`;
    track.append(mark);
  }
  const roles = (labels) => [...new Set(labels)].join(', '); // role labels, never names
  return h(
    'li',
    { class: `gap-row${g.range >= 25 ? ' gap-wide' : ''}`, dataset: { gap: g.id, kind: g.kind, range: String(g.range) } },
    h('p', { class: 'gap-label' }, h('strong', {}, label), ' – ', tx.gapRange(g.min, g.max, g.range), g.combined === null ? '' : ` · ${tx.combinedMark} ${g.combined}`),
    track,
    h('p', { class: 'muted gap-ends' }, tx.gapEnds(roles(g.lowest), roles(g.highest))),
    g.questions.length
      ? h('details', { class: 'gap-questions' }, h('summary', {}, `${tx.gapQuestions} (${g.questions.length})`), h('ul', {}, g.questions.map((qid) => h('li', { dataset: { question: qid } }, questionText(qid)))))
      : null,
  );
}

function renderGap() {
  const tx = ot();
  const gaps = os.result.gaps.filter((g) => g.min !== null && g.scores.length >= 2);
  const sections = gaps.filter((g) => g.kind === 'section').sort((a, b) => b.range - a.range);
  const dims = gaps.filter((g) => g.kind === 'dimension').sort((a, b) => b.range - a.range);
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'gap-title', id: 'gap' },
    h('h2', { id: 'gap-title' }, tx.gapTitle),
    gaps.length
      ? [
          h('p', { class: 'muted' }, tx.gapLead),
          h('ul', { class: 'gap-list', id: 'gap-sections' }, sections.map(gapRow)),
          dims.length ? h('ul', { class: 'gap-list', id: 'gap-dimensions' }, dims.map(gapRow)) : null,
        ]
      : h('p', { class: 'muted' }, tx.gapNone),
  );
}

function renderTarget() {
  const tx = ot();
  const t0 = (os.plan && os.plan.target) || { phase: null, tier: null, dimensions: {} };
  const err = (k) => os.errors[`target-${k}`];
  const select = (id, label, options, current) =>
    h(
      'div',
      { class: `question question-select${err(id) ? ' has-error' : ''}` },
      h('label', { for: `target-${id}`, class: 'q-text' }, label),
      fieldError(`target-${id}`, err(id)),
      h('select', { id: `target-${id}`, 'aria-describedby': `err-target-${id}`, 'aria-invalid': err(id) ? 'true' : null }, h('option', { value: '' }, tx.noTarget), options.map(([v, l]) => h('option', { value: v, selected: String(current) === String(v) }, l))),
    );
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'target-title', id: 'target-box' },
    h('h2', { id: 'target-title' }, tx.targetTitle),
    h('p', { class: 'muted' }, tx.targetLead),
    h(
      'form',
      { id: 'target-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); saveTarget(); } },
      select('phase', tx.targetPhase, os.q.phases.filter((p) => p.number >= 1).map((p) => [p.number, `${p.number} – ${p.name}`]), t0.phase),
      select('tier', tx.targetTier, os.q.tiers.map((x) => [x.id, x.name]), t0.tier),
      h(
        'fieldset',
        { class: 'target-dims' },
        h('legend', {}, tx.targetDims),
        os.q.dimensions.map((d) =>
          h(
            'div',
            { class: `target-dim${err(`dim-${d.id}`) ? ' has-error' : ''}` },
            h('label', { for: `target-dim-${d.id}` }, d.name),
            h('input', { id: `target-dim-${d.id}`, type: 'number', min: '0', max: '100', step: '1', inputmode: 'numeric', class: 'num-input', value: t0.dimensions[d.id] ?? '', 'aria-describedby': `err-target-dim-${d.id}`, 'aria-invalid': err(`dim-${d.id}`) ? 'true' : null }),
            fieldError(`target-dim-${d.id}`, err(`dim-${d.id}`)),
          ),
        ),
      ),
      h('p', { id: 'target-status', class: 'copy-status', role: 'status' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', id: 'target-save' }, tx.saveTarget)),
    ),
  );
}

async function saveTarget() {
  const tx = ot();
  const body = {};
  const phase = $('#target-phase').value;
  const tier = $('#target-tier').value;
  if (phase) body.phase = Number(phase);
  if (tier) body.tier = tier;
  const dims = {};
  for (const d of os.q.dimensions) {
    const v = $(`#target-dim-${d.id}`).value;
    if (v !== '') dims[d.id] = Number(v);
  }
  if (Object.keys(dims).length) body.dimensions = dims;
  const old = os.plan && os.plan.target;
  if (old) {
    body.pace = old.pace;
    if (old.start_quarter) body.start_quarter = old.start_quarter;
    if (Object.keys(old.assignments).length) body.assignments = old.assignments;
  }
  $('#target-save').disabled = true;
  const r = await api(`${base()}/target?lang=${state.lang}`, { method: 'PUT', headers: headers(), body });
  os.errors = {};
  if (r.ok && r.data) {
    os.plan = r.data;
    await showOrg(os.token);
    $('#target-status').textContent = tx.targetSaved;
    focusEl($('#roadmap-title'));
    return;
  }
  for (const e of (r.data && r.data.errors) || []) {
    const p = e.pointer || '';
    const m = /^\/dimensions\/(.+)$/.exec(p);
    if (m) os.errors[`target-dim-${m[1]}`] = e.detail;
    else if (p === '/tier') os.errors['target-tier'] = e.detail;
    else os.errors['target-phase'] = e.detail; // "/phase" and "" (set a phase, tier or score)
  }
  renderWorkspace();
  $('#target-status').textContent = r.network ? tx.loadFailed : tx.targetFailed;
  const first = document.querySelector('#target-form [aria-invalid="true"]');
  if (first) first.focus();
}

function renderRoadmap() {
  const tx = ot();
  const plan = os.plan;
  let body;
  if (!plan.target) body = h('p', { class: 'muted', id: 'roadmap-empty' }, tx.roadmapEmpty);
  else if (plan.basis === 'none') body = h('p', { class: 'muted', id: 'roadmap-empty' }, tx.roadmapNoBasis);
  else if (!plan.steps.length) body = h('p', { class: 'alert alert-success', id: 'roadmap-reached' }, tx.roadmapReached);
  else {
    body = [
      h('p', { class: 'muted', id: 'roadmap-basis' }, plan.basis === 'open_round' ? tx.roadmapBasisOpen : tx.roadmapBasisClosed(plan.round)),
      h('p', { class: 'muted' }, tx.quarterFormat),
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          { class: 'bench-table roadmap-table', id: 'roadmap' },
          h('thead', {}, h('tr', {}, [tx.colStep, tx.colQuestion, tx.colNeeded, tx.colOwner, tx.colDue, tx.colSave].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, plan.steps.map(stepRow)),
        ),
      ),
    ];
  }
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'roadmap-title', id: 'roadmap-box' },
    h('h2', { id: 'roadmap-title', tabindex: '-1' }, tx.roadmapTitle),
    body,
    h('p', { id: 'roadmap-status', class: 'copy-status', role: 'status' }),
  );
}

function stepRow(s) {
  const tx = ot();
  const n = s.rank;
  const err = os.errors[`step-${n}`];
  return h(
    'tr',
    { dataset: { question: s.question_id, kind: s.kind }, id: `step-${n}` },
    h('td', {}, String(n)),
    h('th', { scope: 'row', class: 'step-question' }, h('span', {}, s.question), h('span', { class: `badge step-kind step-kind-${s.kind}` }, tx.kind[s.kind] || s.kind), h('span', { class: 'muted step-why' }, s.why)),
    h('td', { class: 'step-answers' }, `${s.current_label || tx.notAnswered} → ${s.needed_label}`),
    h('td', {}, h('label', { for: `step-owner-${n}`, class: 'visually-hidden' }, tx.ownerLabel(n)), h('input', { id: `step-owner-${n}`, type: 'text', class: 'text-input step-owner', maxlength: '80', value: s.owner, 'aria-describedby': `step-err-${n}`, 'aria-invalid': err && err.field === 'owner' ? 'true' : null })),
    h('td', {}, h('label', { for: `step-due-${n}`, class: 'visually-hidden' }, tx.dueLabel(n)), h('input', { id: `step-due-${n}`, type: 'text', class: 'text-input step-due', size: '8', maxlength: '7', value: s.due_quarter, placeholder: 'YYYY-Qn', 'aria-describedby': `step-err-${n}`, 'aria-invalid': err && err.field === 'due' ? 'true' : null }), h('p', { class: 'field-error', id: `step-err-${n}`, hidden: !err }, err ? err.message : '')),
    h('td', {}, h('button', { type: 'button', class: 'btn btn-secondary', id: `step-save-${n}`, 'aria-label': tx.saveStepLabel(n), onclick: () => saveStep(s) }, tx.saveStep)),
  );
}

async function saveStep(s) {
  const tx = ot();
  const n = s.rank;
  const owner = $(`#step-owner-${n}`).value;
  const due = $(`#step-due-${n}`).value.trim();
  // an unchanged quarter that the pace assigned stays unpinned (it moves with the plan)
  const pinned = (os.plan.target.assignments[s.question_id] || {}).due_quarter;
  const body = { owner, due_quarter: due === '' || (due === s.due_quarter && !pinned) ? null : due };
  const r = await api(`${base()}/roadmap/steps/${encodeURIComponent(s.question_id)}?lang=${state.lang}`, { method: 'PATCH', headers: headers(), body });
  delete os.errors[`step-${n}`];
  if (r.ok && r.data) {
    os.plan = r.data;
    renderWorkspace();
    $('#roadmap-status').textContent = tx.stepSaved(n);
    const again = document.getElementById(`step-save-${n}`);
    if (again) again.focus();
    return;
  }
  const e = ((r.data && r.data.errors) || [])[0] || {};
  const field = e.pointer === '/owner' ? 'owner' : 'due';
  const message = r.network ? tx.loadFailed : field === 'due' && e.pointer === '/due_quarter' ? `${tx.stepFailed}${tx.quarterFormat}` : `${tx.stepFailed}${problemDetail(r)}`;
  os.errors[`step-${n}`] = { field, message };
  renderWorkspace();
  $(`#step-owner-${n}`).value = owner;
  $(`#step-due-${n}`).value = due;
  $(`#step-${field === 'owner' ? 'owner' : 'due'}-${n}`).focus();
}

function renderDownloads() {
  const tx = ot();
  const ready = os.plan.target && os.plan.basis !== 'none';
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'download-title', id: 'download-box' },
    h('h2', { id: 'download-title' }, tx.downloadTitle),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'btn btn-secondary', id: 'download-xlsx', disabled: !ready, onclick: () => download('xlsx') }, tx.downloadXlsx),
      h('button', { type: 'button', class: 'btn btn-secondary', id: 'download-pdf', disabled: !ready, onclick: () => download('pdf') }, tx.downloadPdf),
    ),
    h('p', { id: 'download-status', class: 'copy-status', role: 'status' }, ready ? '' : tx.roadmapEmpty),
  );
}

async function download(format) {
  const tx = ot();
  const status = $('#download-status');
  status.textContent = tx.downloading;
  const type = format === 'xlsx' ? XLSX : PDF;
  const r = await api(`${base()}/roadmap/export?format=${format}&lang=${state.lang}`, { headers: { ...headers(), Accept: type }, blob: true, timeout: 60000 });
  if (!r.ok || !r.data || !r.type.startsWith(type)) {
    status.textContent = r.network ? ot().loadFailed : tx.downloadFailed;
    return;
  }
  const url = URL.createObjectURL(r.data);
  const named = /filename="?([^";]+)"?/i.exec(r.disposition);
  const a = h('a', { href: url, download: named ? named[1] : `roadmap-${state.lang}.${format}`, class: 'visually-hidden' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  status.textContent = tx.downloaded;
}

function renderClose() {
  const tx = ot();
  const n = os.org.current_round;
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'close-title', id: 'close-box' },
    h('h2', { id: 'close-title' }, tx.closeTitle),
    h('p', { class: 'muted' }, tx.closeLead),
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn btn-primary', id: 'close-round', disabled: !os.result.score, onclick: closeRound }, tx.closeBtn(n))),
    h('p', { id: 'close-status', class: 'copy-status', role: 'status' }),
  );
}

async function closeRound() {
  const tx = ot();
  const n = os.org.current_round;
  $('#close-round').disabled = true;
  $('#close-status').textContent = tx.closing;
  const r = await api(`${base()}/rounds`, { method: 'POST', headers: headers(), timeout: 60000 });
  if (r.ok) {
    await showOrg(os.token);
    $('#close-status').textContent = tx.closed(n);
    focusEl($('#history-title'));
    return;
  }
  $('#close-round').disabled = false;
  $('#close-status').textContent = tx.closeFailed + (r.network ? tx.loadFailed : problemDetail(r));
}

function historyLabels(items) {
  const tx = ot();
  return items.map((p) => {
    const when = `${tx.round(p.round)} · ${formatDate(p.date)}`;
    return p.version_changed ? `${when} (${tx.versionMark(p.questionnaire.version)})` : when;
  });
}

function renderHistory() {
  const tx = ot();
  const items = os.history.items;
  const names = os.history.dimension_names;
  const dims = Object.keys(names);
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'history-title', id: 'history-box' },
    h('h2', { id: 'history-title', tabindex: '-1' }, tx.historyTitle),
    items.length
      ? [
          h('p', { class: 'muted' }, tx.historyLead),
          h('div', { class: 'chart-box chart-history' }, h('canvas', { id: 'history-chart', role: 'img', 'aria-label': `${tx.historyTitle}: ${historyLabels(items).join('; ')}` })),
          h(
            'div',
            { class: 'table-scroll' },
            h(
              'table',
              { class: 'bench-table', id: 'history-table' },
              h('thead', {}, h('tr', {}, [tx.colRound, tx.colDate, tx.colVersion, tx.phase, tx.pyramid, tx.overall, tx.colPercentile, ...dims.map((d) => names[d])].map((c) => h('th', { scope: 'col' }, c)))),
              h(
                'tbody',
                {},
                items.map((p) =>
                  h(
                    'tr',
                    { dataset: { round: String(p.round), versionChanged: String(p.version_changed) } },
                    h('th', { scope: 'row' }, String(p.round)),
                    h('td', {}, formatDate(p.date)),
                    h('td', {}, p.version_changed ? `${p.questionnaire.version} (${tx.versionMark(p.questionnaire.version)})` : p.questionnaire.version),
                    h('td', {}, fmt(p.phase)),
                    h('td', {}, fmt(p.pyramid_level)),
                    h('td', {}, fmt(p.overall)),
                    h('td', {}, fmt(p.percentile)),
                    dims.map((d) => h('td', {}, fmt(p.dimensions[d]))),
                  ),
                ),
              ),
            ),
          ),
        ]
      : h('p', { class: 'muted', id: 'history-empty' }, tx.historyEmpty),
  );
}

function drawHistoryChart() {
  const items = os.history.items;
  if (!items.length) return;
  const tx = ot();
  const names = os.history.dimension_names;
  const scoreSets = [
    { label: tx.overall, data: items.map((p) => p.overall) },
    { label: tx.colPercentile, data: items.map((p) => p.percentile), dashed: true },
    ...Object.keys(names).map((d) => ({ label: names[d], data: items.map((p) => p.dimensions[d] ?? null) })),
  ];
  const levelSets = [
    { label: tx.phase, data: items.map((p) => p.phase) },
    { label: tx.pyramid, data: items.map((p) => p.pyramid_level) },
  ];
  const marks = items.map((p, i) => (p.version_changed ? i : -1)).filter((i) => i >= 0);
  drawHistory('history-chart', historyLabels(items), scoreSets, levelSets, marks, { score: tx.scoreAxis, level: tx.levelAxis });
}
