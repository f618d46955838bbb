// Re-assessment: a new assessment linked to an earlier result (previous_token on submit), and
// on the new result the change since then (GET v1/assessments/{id}/progress): per metric and
// in the peer ranking, as charts and a table.

import { api } from './api.js';
import { drawPairs } from './charts.js';
import { $, fmt, formatDate, h } from './dom.js';
import { metricLabel, t } from './i18n.js';
import { STORE_PREVIOUS, state, storageGet, storageSet } from './state.js';

/** Remember the result this re-assessment will be linked to (kept with the draft id, so a
 * resumed draft on this device still links it). */
export function setPrevious(previous) {
  state.previous = previous;
  storageSet(STORE_PREVIOUS, previous ? JSON.stringify(previous) : null);
}

/** The stored link for a resumed draft (only the draft it was started with). */
export function restorePrevious(draftId) {
  let saved = null;
  try {
    saved = JSON.parse(storageGet(STORE_PREVIOUS) || 'null');
  } catch {
    saved = null;
  }
  state.previous = saved && saved.token && saved.draft === draftId ? saved : null;
}

/** The draft id the link belongs to, once the first save named it. */
export function previousDraft(draftId) {
  if (state.previous && state.previous.draft !== draftId) setPrevious({ ...state.previous, draft: draftId });
}

/** The panel for the change since the previous assessment (null without one); filled by
 * loadProgress. */
export function progressPanel(data) {
  if (!data.previous_id) return null;
  const tx = t();
  return h(
    'section',
    { class: 'panel', id: 'progress-panel', 'aria-labelledby': 'progress-title', 'aria-busy': 'true' },
    h('h2', { id: 'progress-title' }, tx.progressTitle),
    h('div', { id: 'progress-body' }, h('p', { class: 'loading' }, tx.benchLoading)),
  );
}

export async function loadProgress() {
  const seq = state.seq;
  const body = $('#progress-body');
  if (!body || !state.result) return;
  const { id, token } = state.result;
  const population = state.population === 'all' ? 'all' : 'users';
  const r = await api(`v1/assessments/${encodeURIComponent(id)}/progress?lang=${state.lang}&source=auto&population=${population}`, {
    headers: { 'X-Result-Token': token },
  });
  if (seq !== state.seq || !$('#progress-body')) return;
  $('#progress-panel').removeAttribute('aria-busy');
  const tx = t();
  if (!r.ok || !r.data) {
    body.replaceChildren(h('p', { class: 'notice notice-warning', id: 'progress-message' }, tx.progressFailed));
    return;
  }
  const p = r.data;
  if (p.status !== 'ok') {
    body.replaceChildren(h('p', { class: 'notice notice-info', id: 'progress-message' }, p.status === 'previous_erased' ? tx.progressErased : tx.progressNone));
    return;
  }
  renderProgress(body, p);
}

const sign = (d) => (d > 0 ? `+${fmt(d)}` : d < 0 ? `−${fmt(-d)}` : '±0');
const hasRank = (c) => c.percentile_before !== undefined && c.percentile_before !== null && c.percentile_after !== undefined && c.percentile_after !== null;
const scale100 = (c) => !['phase', 'pyramid_level'].includes(c.metric);

function renderProgress(body, p) {
  const tx = t();
  const changes = p.changes || [];
  const since = p.previous_created_at ? formatDate(p.previous_created_at) : '';
  const scores = changes.filter((c) => scale100(c) && c.comparable !== false);
  const ranks = changes.filter((c) => hasRank(c) && c.comparable !== false);
  const steps = changes.filter((c) => !scale100(c));
  const list = (items, key) => items.map((c) => `${metricLabel(c.metric, c.label)} ${fmt(c[`${key}before`])} → ${fmt(c[`${key}after`])}`).join(', ');
  const box = (id, items, label) => {
    const b = h('div', { class: 'chart-box chart-bars' }, h('canvas', { id, role: 'img', 'aria-label': label }));
    b.style.height = `${Math.max(160, items.length * 46 + 80)}px`;
    return b;
  };
  const parts = [
    h('p', { id: 'progress-since' }, tx.progressSince(since)),
    p.version_note ? h('p', { class: 'notice notice-warning', id: 'progress-version' }, p.version_note) : null,
    steps.length
      ? h('ul', { class: 'progress-steps', id: 'progress-steps' }, steps.map((c) => h('li', { dataset: { metric: c.metric } }, `${metricLabel(c.metric, c.label)}: ${fmt(c.before)} → ${fmt(c.after)} (${sign(c.delta)})`)))
      : null,
    scores.length ? h('h3', {}, tx.progressScores) : null,
    scores.length ? box('progress-chart', scores, tx.progressChartLabel(list(scores, ''))) : null,
    ranks.length ? h('h3', {}, tx.progressRanks) : null,
    ranks.length ? box('progress-rank-chart', ranks, tx.progressRankLabel(list(ranks, 'percentile_'))) : null,
    ranks.length ? h('p', { class: 'muted' }, tx.progressRankNote) : null,
    h(
      'details',
      { class: 'table-details' },
      h('summary', {}, tx.tableView),
      h(
        'div',
        { class: 'table-scroll', role: 'region', 'aria-label': tx.progressTitle, tabindex: '0' },
        h(
          'table',
          { class: 'bench-table', id: 'progress-table' },
          h('thead', {}, h('tr', {}, [tx.colMetric, tx.colBefore, tx.colAfter, tx.colChange, tx.colRankChange].map((x) => h('th', { scope: 'col' }, x)))),
          h(
            'tbody',
            {},
            changes.map((c) =>
              h(
                'tr',
                { dataset: { metric: c.metric } },
                h('th', { scope: 'row' }, metricLabel(c.metric, c.label)),
                h('td', {}, fmt(c.before)),
                h('td', {}, fmt(c.after)),
                h('td', {}, sign(c.delta)),
                h('td', {}, hasRank(c) ? `${fmt(c.percentile_before)} → ${fmt(c.percentile_after)}` : '–'),
              ),
            ),
          ),
        ),
      ),
    ),
  ];
  body.replaceChildren(...parts.filter(Boolean));
  const before = tx.progressBefore(since);
  const after = tx.progressAfter;
  if (scores.length) drawPairs('progress-chart', scores.map((c) => metricLabel(c.metric, c.label)), scores.map((c) => c.before), scores.map((c) => c.after), before, after, tx.progressScoreAxis);
  if (ranks.length) drawPairs('progress-rank-chart', ranks.map((c) => metricLabel(c.metric, c.label)), ranks.map((c) => c.percentile_before), ranks.map((c) => c.percentile_after), before, after, tx.percentileAxis);
}
