// The result page: key figures, engagement ladder, pyramid, six areas, recommendations, PDF.

import { UNAVAILABLE, api } from './api.js';
import { loadComparison } from './benchmark.js';
import { destroyCharts, drawRadar } from './charts.js';
import { $, announce, copyFrom, formatDate, h, pageUrl, setView } from './dom.js';
import { EMBED, embedSecret, emit } from './frame.js';
import { markEntry } from './history.js';
import { t } from './i18n.js';
import { applyBranding, renderLoadError, renderLoading, setTitle } from './page.js';
import { loadProgress, progressPanel } from './progress.js';
import { loadQuestionnaire } from './questionnaire.js';
import { state } from './state.js';
import { resetForNewAssessment, startReassessment } from './submit.js';

/** "#result=<id>.<secret>" (the token itself has the form <id>.<secret>); "#result=<id>.<token>"
 * is accepted as well. */
export function parseResultHash() {
  const m = /^#result=(.+)$/.exec(location.hash);
  if (!m) return null;
  let value;
  try {
    value = decodeURIComponent(m[1]);
  } catch {
    value = m[1];
  }
  const dot = value.indexOf('.');
  if (dot < 1) return { id: value, token: value };
  const id = value.slice(0, dot);
  const rest = value.slice(dot + 1);
  return { id, token: rest.startsWith(`${id}.`) ? rest : value };
}

export async function showResult(id, token, data, fresh = false) {
  const seq = ++state.seq;
  state.view = 'result';
  markEntry('result');
  state.result = { id, token, data, fresh };
  if (!data) {
    renderLoading();
    const r = await api(`v1/assessments/${encodeURIComponent(id)}?lang=${state.lang}`, { headers: { 'X-Result-Token': token } });
    if (seq !== state.seq) return;
    if (r.network || r.status >= 500) {
      renderLoadError(t().resultLoadFailed, () => showResult(id, token, null, fresh));
      return;
    }
    if (!r.ok || !r.data || !r.data.result) {
      destroyCharts();
      state.view = 'message';
      setView(
        h(
          'div',
          { class: 'panel alert alert-warning', role: 'alert' },
          h('p', {}, t().resultMissing),
          h('p', {}, h('button', { type: 'button', class: 'btn btn-primary', onclick: resetForNewAssessment }, t().newAssessment)),
        ),
      );
      return;
    }
    data = r.data;
    state.result.data = data;
  }
  const version = (data.questionnaire && data.questionnaire.version) || 'latest';
  const q = await loadQuestionnaire(state.lang, version);
  if (seq !== state.seq) return;
  state.result.q = q;
  if (!EMBED && !state.brand) loadBranding(id, token, seq, data, q);
  renderResult(data, q);
}

/** A partner's result opened on our own page: show it in the partner's white label. */
export async function loadBranding(id, token, seq, data, q) {
  const r = await api(`v1/assessments/${encodeURIComponent(id)}/branding`, { headers: { 'X-Result-Token': token } });
  if (seq !== state.seq || !r.ok || !r.data || !r.data.branding) return;
  applyBranding(r.data.branding);
}

export function scoreText(score) {
  return score === null || score === undefined ? t().noScore : t().outOf(score);
}

export function renderResult(data, q) {
  destroyCharts();
  const tx = t();
  const r = data.result;
  // embedded: the link opens the result on our own page (in the partner's white label)
  const link = `${EMBED ? new URL('./', location.href).href : pageUrl()}#result=${state.result.token}`;
  setTitle(tx.resultTitle);
  announce(''); // "welcome back" and other form notices end with the questionnaire
  const tierName = r.pyramid.reached_name || tx.noTier;

  setView(
    h(
      'div',
      { class: 'result' },
      h(
        'header',
        { class: 'result-head' },
        h('h1', { id: 'result-title', tabindex: '-1' }, tx.resultTitle),
        data.created_at ? h('p', { class: 'muted' }, tx.resultDate(formatDate(data.created_at))) : null,
      ),
      h(
        'section',
        { class: 'panel keep-link', 'aria-labelledby': 'keep-title' },
        h('h2', { id: 'keep-title' }, tx.keepLinkTitle),
        h('p', {}, tx.keepLinkText),
        h(
          'div',
          { class: 'copy-row' },
          h('label', { for: 'result-link', class: 'visually-hidden' }, tx.resultLinkLabel),
          h('input', { id: 'result-link', type: 'text', readonly: true, class: 'link-input', value: link, onfocus: (e) => e.target.select() }),
          h('button', { type: 'button', class: 'btn btn-secondary', id: 'copy-result', onclick: () => copyFrom('result-link', 'result-copied') }, tx.copy),
        ),
        h('p', { id: 'result-copied', class: 'copy-status', role: 'status' }),
      ),
      h(
        'ul',
        { class: 'cards', 'aria-label': tx.resultTitle },
        h('li', { class: 'card' }, h('span', { class: 'card-label' }, tx.phaseCard), h('span', { class: `card-value${r.phase.number === null ? ' card-value-text' : ''}` }, r.phase.number === null ? tx.notAssessable : String(r.phase.number)), h('span', { class: 'card-sub' }, r.phase.name), r.phase.number === null ? null : h('span', { class: 'card-sub card-scale' }, tx.phaseScale)),
        h('li', { class: 'card' }, h('span', { class: 'card-label' }, tx.tierCard), h('span', { class: 'card-value card-value-text' }, tierName)),
        r.overall === null
          ? h('li', { class: 'card' }, h('span', { class: 'card-label' }, tx.overall), h('span', { class: 'card-value card-value-text' }, tx.notAssessable))
          : h('li', { class: 'card' }, h('span', { class: 'card-label' }, tx.overall), h('span', { class: 'card-value' }, String(r.overall)), h('span', { class: 'card-sub' }, '/ 100')),
      ),
      renderEvidenceFlag(r),
      h(
        'div',
        { class: 'actions result-actions' },
        h('button', { type: 'button', class: 'btn btn-primary', id: 'report-btn', onclick: downloadReport }, tx.report),
        // a session submits once: no second assessment in the same frame
        embedSecret ? null : h('button', { type: 'button', class: 'btn btn-secondary', id: 'new-btn', onclick: resetForNewAssessment }, tx.newAssessment),
        // a partner's frame submits through the partner API: no linking there
        EMBED ? null : h('button', { type: 'button', class: 'btn btn-secondary', id: 'reassess-btn', onclick: startReassessment }, tx.reassess),
        h('p', { id: 'report-status', class: 'report-status', role: 'status' }),
      ),
      progressPanel(data),
      renderLadder(r, q),
      renderPyramid(r),
      renderDimensions(r),
      h(
        'section',
        { class: 'panel', id: 'benchmark', 'aria-labelledby': 'bench-title', 'aria-busy': 'true' },
        h('h2', { id: 'bench-title' }, tx.benchTitle),
        renderInclusion(data.benchmark),
        h('div', { id: 'bench-body' }, h('p', { class: 'loading' }, tx.benchLoading)),
      ),
      renderRecommendations(r, q),
    ),
  );
  const title = $('#result-title');
  window.scrollTo(0, 0);
  title.focus({ preventScroll: true });
  drawRadar(r);
  loadComparison();
  loadProgress();
  emit('result_shown', { assessment_id: data.id, phase: r.phase.number, overall: r.overall });
}

/** Not assessable / low coverage: a warning above the key figures (null when neither). */
export function renderEvidenceFlag(r) {
  const tx = t();
  const cov = r.coverage || {};
  const parts = [];
  if (r.assessable === false) parts.push(tx.notAssessableAll);
  if (cov.low && cov.note) parts.push(cov.note);
  return parts.length ? h('p', { class: 'notice notice-warning evidence-flag', id: 'evidence-flag', role: 'note' }, parts.join(' ')) : null;
}

export function renderLadder(r, q) {
  const tx = t();
  const names = new Map();
  if (q) for (const p of q.phases) names.set(p.number, p.name);
  for (const p of r.phase.profile) if (!names.has(p.phase)) names.set(p.phase, p.name);
  if (r.phase.number !== null) names.set(r.phase.number, r.phase.name);
  const met = new Map(r.phase.profile.map((p) => [p.phase, p]));
  const current = r.phase.number;
  const steps = [];
  for (let n = 0; n <= 7; n += 1) {
    const p = met.get(n);
    const state_ = current === null ? 'above' : n === current ? 'current' : n < current ? 'below' : 'above';
    steps.push(
      h(
        'li',
        { class: `step step-${n} step-${state_}${p && p.met ? ' step-met' : ''}`, 'aria-current': n === current ? 'step' : null, dataset: { phase: String(n) } },
        h(
          'span',
          { class: 'step-bar' },
          h('span', { class: 'step-num' }, String(n)),
          p && p.met ? h('span', { class: 'step-check', title: tx.criteriaMet }, h('span', { 'aria-hidden': 'true' }, '✓'), h('span', { class: 'visually-hidden' }, ` ${tx.criteriaMet}`)) : null,
        ),
        h('span', { class: 'step-name' }, names.get(n) || tx.phaseN(n)),
        n === current ? h('span', { class: 'step-you' }, tx.yourPhase) : null,
        p && p.score !== null && p.score !== undefined && p.threshold
          ? h('span', { class: 'step-score', title: tx.stepScoreLong(p.score, p.threshold) }, h('span', { 'aria-hidden': 'true' }, tx.stepScore(p.score, p.threshold)), h('span', { class: 'visually-hidden' }, tx.stepScoreLong(p.score, p.threshold)))
          : null,
      ),
    );
  }
  const next = r.phase.next;
  const nextProfile = next ? met.get(next.number) : null;
  return h(
    'section',
    { class: 'panel', id: 'ladder', 'aria-labelledby': 'ladder-title' },
    h('h2', { id: 'ladder-title' }, tx.ladderTitle),
    h('p', { class: 'muted' }, tx.ladderIntro),
    h('ol', { class: 'ladder', start: '0' }, steps),
    legend([
      ['swatch-current', tx.legendYourPhase],
      ['swatch-below', tx.legendBelow],
      ...(r.phase.met_above && r.phase.met_above.length ? [['swatch-hatch', tx.legendMetAbove]] : []),
    ]),
    h(
      'div',
      { class: 'phase-detail' },
      h('h3', {}, current === null ? r.phase.name : `${tx.phaseN(current)}: ${r.phase.name}`),
      h('p', {}, r.phase.description),
      r.phase.evidence && r.phase.evidence.length
        ? h(
            'div',
            { class: 'phase-evidence', id: 'phase-evidence' },
            h('p', {}, tx.phaseEvidence),
            h('ul', {}, r.phase.evidence.map((e) => h('li', { class: e.shows ? 'shows' : 'lacks', dataset: { qid: e.question_id } }, `${e.text} – ${e.label}`))),
          )
        : null,
    ),
    r.phase.met_above && r.phase.met_above.length
      ? h('p', { class: 'notice notice-warning', id: 'jagged-note' }, r.phase.jagged_note || tx.metAbove(r.phase.met_above.join(', ')))
      : null,
    r.phase.bridged_note ? h('p', { class: 'notice', id: 'bridged-note' }, r.phase.bridged_note) : null,
    next
      ? h(
          'div',
          { class: 'next-phase' },
          h('h3', {}, tx.nextTitle(next.number, next.name)),
          renderNextScore(next, nextProfile),
          h('p', {}, tx.nextIntro),
          h('ul', { class: 'criteria' }, next.criteria.map(renderCriterion)),
          renderNextMove(next, nextProfile),
        )
      : h('p', { class: 'notice notice-success' }, tx.topPhase),
  );
}

/** How close the next phase is: its criterion score against the threshold it needs. */
function renderNextScore(next, p) {
  const tx = t();
  if (!p) return null;
  if (p.status === 'not_assessable') {
    return h('p', { class: 'next-score next-score-unknown', id: 'next-score' }, tx.nextUnknown(next.number, p.answered, p.items));
  }
  if (p.score === null || p.score === undefined || !p.threshold) return null;
  const gap = Math.max(0, p.threshold - p.score);
  const bar = h('span', { class: 'next-bar-fill' });
  bar.style.width = `${Math.min(100, Math.round((100 * p.score) / p.threshold))}%`;
  return h(
    'div',
    { class: 'next-score', id: 'next-score' },
    h('p', {}, h('strong', { id: 'next-score-figure' }, tx.nextScore(next.number, p.score, p.threshold)), ' ', gap > 0 ? tx.nextGap(gap) : ''),
    h('span', { class: 'next-bar', 'aria-hidden': 'true' }, bar),
  );
}

/** One criterion of the next phase: the question, the answer given and the answer needed. */
function renderCriterion(c) {
  const tx = t();
  const known = c.met !== null && c.met !== undefined;
  const cls = known ? (c.met ? 'criterion criterion-met' : 'criterion criterion-open') : 'criterion';
  return h(
    'li',
    { class: cls, dataset: { qid: c.question_id } },
    known ? h('span', { class: 'criterion-mark', 'aria-hidden': 'true' }, c.met ? '✓' : '○') : null,
    h(
      'span',
      { class: 'criterion-body' },
      h('span', { class: 'criterion-text' }, c.text),
      c.key ? h('span', { class: 'criterion-key' }, ` (${tx.keyItem})`) : null,
      known
        ? h(
            'span',
            { class: 'criterion-answers' },
            h('span', { class: 'criterion-given' }, `${tx.answerGiven} ${c.answer_label || tx.unanswered}`),
            ' · ',
            h('span', { class: 'criterion-needed' }, c.met ? tx.criterionMet : `${tx.answerNeeded} ${c.needed_label}`),
          )
        : null,
    ),
  );
}

/** What would move the organisation up: the open criteria, with the needed answers. */
function renderNextMove(next, p) {
  const tx = t();
  const open = next.criteria.filter((c) => c.met === false);
  if (!p || (!open.length && p.status !== 'not_assessable')) return null;
  const text = p.status === 'not_assessable' ? tx.moveUnknown : tx.moveUp(open.length, next.number);
  return h('p', { class: 'notice next-move', id: 'next-move' }, text);
}

/** A small legend: [[swatch class, text], ...] */
export function legend(items) {
  return h(
    'ul',
    { class: 'legend', 'aria-label': t().legend },
    items.map(([cls, text]) => h('li', {}, h('span', { class: `swatch ${cls}`, 'aria-hidden': 'true' }), text)),
  );
}

export function renderPyramid(r) {
  const tx = t();
  const p = r.pyramid;
  const names = new Map(p.tiers.map((x) => [x.id, x.name]));
  const reachedIdx = p.reached ? p.tiers.findIndex((x) => x.id === p.reached) : -1;
  const tiers = p.tiers.map((tier, i) => {
    const cls = ['tier', `tier-${i}`];
    if (i <= reachedIdx) cls.push('tier-reached');
    else if (tier.met) cls.push('tier-met');
    else cls.push('tier-open');
    if (tier.id === p.reached) cls.push('tier-top');
    if (tier.id === p.blocked_by) cls.push('tier-blocked');
    const status = i <= reachedIdx ? tx.tierReached : tier.met ? tx.tierMet : tier.status === 'not_assessable' ? tx.tierNotAssessable : tx.tierNotMet;
    if (tier.status === 'not_assessable') cls.push('tier-unknown');
    return h(
      'li',
      { class: cls.join(' '), dataset: { tier: tier.id }, 'aria-current': tier.id === p.reached ? 'true' : null },
      h('span', { class: 'tier-shape' }, h('span', { class: 'tier-name' }, tier.name), h('span', { class: 'tier-score' }, tier.score === null ? '–' : `${tier.score}`, h('span', { class: 'visually-hidden' }, ` / 100, ${status}`))),
    );
  });
  return h(
    'section',
    { class: 'panel', id: 'pyramid', 'aria-labelledby': 'pyramid-title' },
    h('h2', { id: 'pyramid-title' }, tx.pyramidTitle),
    h('p', { class: 'muted' }, r.scoring_rules === '2' ? tx.pyramidIntro2(p.threshold) : tx.pyramidIntro(p.threshold)),
    h('ol', { class: 'pyramid' }, tiers),
    legend([
      ['swatch-current', tx.legendReached],
      ...(p.tiers.some((x, i) => x.met && i > reachedIdx) ? [['swatch-below', tx.legendMetNotCounted]] : []),
      ...(p.blocked_by ? [['swatch-blocked', tx.legendBlocking]] : []),
      ['swatch-open', tx.legendOpen],
    ]),
    h('p', { class: 'pyramid-reached' }, p.status === 'not_assessable' ? tx.pyramidNotAssessable : p.reached ? tx.reachedTier(p.reached_name) : tx.noTierReached),
    p.blocked_by ? h('p', { class: 'notice notice-warning', id: 'blocked-by' }, tx.blockedBy(names.get(p.blocked_by) || p.blocked_by)) : null,
  );
}

export function renderDimensions(r) {
  const tx = t();
  const dims = r.dimensions;
  const list = dims.map((d) => `${d.name} ${d.score === null ? '–' : d.score}`).join(', ');
  return h(
    'section',
    { class: 'panel', id: 'dimensions', 'aria-labelledby': 'dims-title' },
    h('h2', { id: 'dims-title' }, tx.dimsTitle),
    h('p', { class: 'muted' }, tx.dimsIntro),
    h(
      'div',
      { class: 'dims-layout' },
      h('div', { class: 'chart-box chart-radar' }, h('canvas', { id: 'radar', role: 'img', 'aria-label': tx.radarLabel(list) })),
      h(
        'ul',
        { class: 'dim-list' },
        dims.map((d) => {
          const bar = h('span', { class: 'dim-bar-fill' });
          bar.style.width = `${d.score || 0}%`;
          return h(
            'li',
            { dataset: { dim: d.id } },
            h('span', { class: 'dim-name' }, d.name),
            h('span', { class: 'dim-score' }, d.score === null ? '–' : String(d.score)),
            h('span', { class: 'dim-bar', 'aria-hidden': 'true' }, bar),
          );
        }),
      ),
    ),
  );
}

export function renderInclusion(b) {
  if (!b) return null;
  const tx = t();
  if (b.included) return h('p', { class: 'muted inclusion' }, tx.included);
  const reasons = (b.exclusion_reasons || []).map((x) => tx.reasons[x] || x);
  return h('p', { class: 'muted inclusion' }, `${tx.excluded} ${reasons.join('; ')}.`);
}

export function renderRecommendations(r, q) {
  const tx = t();
  const phaseNames = new Map(q ? q.phases.map((p) => [p.number, p.name]) : []);
  const tierNames = new Map(r.pyramid.tiers.map((x) => [x.id, x.name]));
  const dimNames = new Map(r.dimensions.map((d) => [d.id, d.name]));
  const questionText = new Map(q ? q.sections.flatMap((s) => s.questions.map((x) => [x.id, x.text])) : []);
  const targetLabel = (target) => {
    const [kind, key] = String(target || '').split(':');
    if (kind === 'phase') return tx.targetPhase(key, phaseNames.get(Number(key)) || '');
    if (kind === 'tier') return tx.targetTier(tierNames.get(key) || key);
    if (kind === 'dimension') return tx.targetDim(dimNames.get(key) || key);
    if (kind === 'campaign') return tx.targetCampaign;
    return target || '';
  };
  const recs = r.recommendations || [];
  return h(
    'section',
    { class: 'panel', id: 'recommendations', 'aria-labelledby': 'recs-title' },
    h('h2', { id: 'recs-title' }, tx.recsTitle),
    recs.length ? h('p', { class: 'muted' }, r.scoring_rules === '2' ? tx.recsIntro2 : tx.recsIntro) : h('p', {}, tx.recsNone),
    h(
      'ol',
      { class: 'recs' },
      recs.map((rec) =>
        h(
          'li',
          { class: 'rec', dataset: { qid: rec.question_id } },
          h('span', { class: 'rec-rank', 'aria-hidden': 'true' }, String(rec.rank)),
          h(
            'div',
            { class: 'rec-body' },
            h('p', { class: 'rec-target' }, targetLabel(rec.target)),
            h('p', { class: 'rec-text' }, rec.text),
            questionText.has(rec.question_id) ? h('p', { class: 'rec-question' }, `${tx.question} ${questionText.get(rec.question_id)}`) : null,
          ),
        ),
      ),
    ),
  );
}

export async function downloadReport() {
  const btn = $('#report-btn');
  const status = $('#report-status');
  const { id, token } = state.result;
  const tx = t();
  btn.disabled = true;
  status.textContent = tx.reportLoading;
  // GET .../report?format=pdf (docs/EXPORTS.md); .../report.pdf as the older spelling
  const opts = { headers: { 'X-Result-Token': token }, blob: true, timeout: 60000 };
  const base = `v1/assessments/${encodeURIComponent(id)}`;
  // the report compares with the same population as the page
  const population = state.population === 'all' ? 'all' : 'users';
  let r = await api(`${base}/report?format=pdf&lang=${state.lang}&population=${population}`, opts);
  if (!r.network && UNAVAILABLE.has(r.status)) r = await api(`${base}/report.pdf?lang=${state.lang}&population=${population}`, opts);
  btn.disabled = false;
  if (!r.network && UNAVAILABLE.has(r.status)) {
    btn.hidden = true;
    status.textContent = tx.reportUnavailable;
    return;
  }
  if (!r.ok || !r.data || !/pdf/i.test(r.type)) {
    status.textContent = tx.reportFailed;
    return;
  }
  const url = URL.createObjectURL(r.data);
  const named = /filename="?([^";]+)"?/i.exec(r.disposition);
  const filename = named ? named[1] : `social-media-maturity-${id.slice(0, 8)}-${state.lang}.pdf`;
  const a = h('a', { href: url, download: filename, class: 'visually-hidden' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  status.textContent = tx.reportDone;
}
