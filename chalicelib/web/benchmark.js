// The comparison with peers: cohort, population switch, percentile chart and table.

import { UNAVAILABLE, api } from './api.js';
import { drawBars } from './charts.js';
import { $, fmt, h } from './dom.js';
import { metricLabel, t } from './i18n.js';
import { loadProgress } from './progress.js';
import { state } from './state.js';

export async function loadComparison() {
  const seq = state.seq;
  const { id, token } = state.result;
  const population = state.population === 'all' ? 'all' : 'users';
  const r = await api(`v1/assessments/${encodeURIComponent(id)}/comparison?lang=${state.lang}&source=auto&population=${population}`, {
    headers: { 'X-Result-Token': token },
  });
  if (seq !== state.seq) return;
  const body = $('#bench-body');
  const section = $('#benchmark');
  if (!body) return;
  section.removeAttribute('aria-busy');
  const tx = t();
  if (r.ok && r.data && typeof r.data === 'object' && r.data.status) {
    renderComparison(body, r.data);
    return;
  }
  if (!r.network && (UNAVAILABLE.has(r.status) || r.ok)) {
    body.replaceChildren(h('p', { class: 'notice notice-info', id: 'bench-message' }, tx.benchUnavailable));
    return;
  }
  body.replaceChildren(
    h(
      'div',
      { class: 'notice notice-warning', id: 'bench-message' },
      h('p', {}, tx.benchFailed),
      h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => { body.replaceChildren(h('p', { class: 'loading' }, tx.benchLoading)); loadComparison(); } }, tx.tryAgain),
    ),
  );
}

/** "J – Information and communication · 10–49 employees" from the cohort's codes and the
 * questionnaire's option labels; the API's own label when the codes are unknown. */
export function cohortLabel(cohort, q) {
  if (!cohort || (!cohort.label && !cohort.key)) return '';
  const tx = t();
  const any = (v) => v === undefined || v === null || v === '*' || v === '';
  if (!q || !('industry' in cohort || 'size' in cohort || 'region' in cohort)) return cohort.label || '';
  const option = (role, id) => {
    const question = q.sections.flatMap((s) => s.questions).find((x) => x.role === role);
    const o = question && question.options.find((x) => x.id === id);
    return o ? o.label : null;
  };
  const parts = [];
  if (!any(cohort.industry)) parts.push(option('industry', cohort.industry));
  if (!any(cohort.size)) parts.push(option('size', cohort.size));
  if (!any(cohort.region)) parts.push(tx.regions[cohort.region] || null);
  if (parts.some((x) => x === null)) return cohort.label || '';
  return parts.length ? parts.join(' · ') : tx.cohortAll;
}

/** Which organisations the peers are (the API's localised label) and a switch to the other
 * population; the comparison is reloaded in place. */
export function populationLine(population) {
  const tx = t();
  const other = population.id === 'all' ? 'users' : 'all';
  return h(
    'p',
    { class: 'bench-population' },
    `${tx.population} `,
    h('span', { id: 'bench-population', 'data-population': population.id }, population.label),
    ' ',
    h(
      'button',
      {
        type: 'button',
        class: 'btn btn-secondary btn-small',
        id: 'bench-population-switch',
        onclick: () => {
          state.population = other;
          state.charts = state.charts.filter((chart) => {
            if (chart.canvas && chart.canvas.id === 'bench-chart') {
              chart.destroy();
              return false;
            }
            return true;
          });
          const section = $('#benchmark');
          if (section) section.setAttribute('aria-busy', 'true');
          const body = $('#bench-body');
          if (body) body.replaceChildren(h('p', { class: 'loading' }, tx.benchLoading));
          loadComparison();
          loadProgress(); // the change in ranking follows the same peers
        },
      },
      other === 'all' ? tx.populationToAll : tx.populationToUsers,
    ),
  );
}

// How old a release is, in whole minutes, hours or days.
function ageText(seconds) {
  const tx = t();
  const s = Math.max(0, Number(seconds) || 0);
  if (s < 3600) return tx.age(Math.max(1, Math.round(s / 60)), 'minute');
  if (s < 172800) return tx.age(Math.round(s / 3600), 'hour');
  return tx.age(Math.round(s / 86400), 'day');
}

// The release the figures come from: its id, how old it is and when the next one is due.
export function releaseLine(release) {
  if (!release || !release.id) return null;
  const next = new Date(release.next_release_at);
  const when = Number.isNaN(next.getTime())
    ? release.next_release_at
    : new Intl.DateTimeFormat(state.lang === 'de' ? 'de-DE' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(next);
  return h('p', { class: 'muted bench-release', id: 'bench-release' }, t().release(release.id, ageText(release.age_seconds), when));
}

export function renderComparison(body, c) {
  const tx = t();
  const reference = c.source === 'reference';
  const sourceText = reference ? tx.sourceRef : c.source === 'real' ? tx.sourceReal : c.source_label || c.source || '';
  const cohort = c.cohort || {};
  const label = cohortLabel(cohort, state.result && state.result.q);
  const meta = h(
    'div',
    { class: 'bench-meta' },
    h('p', { class: 'bench-source' }, `${tx.source} `, h('span', { class: `badge ${reference ? 'badge-reference' : 'badge-real'}`, id: 'bench-source' }, sourceText)),
    label ? h('p', { class: 'bench-cohort', id: 'bench-cohort' }, tx.cohort(label, cohort.n ?? '–')) : null,
    c.population ? populationLine(c.population) : null,
    c.months && c.months.from ? h('p', { class: 'muted' }, tx.months(c.months.from, c.months.to || c.months.from)) : null,
    releaseLine(c.release),
    reference ? h('p', { class: 'notice notice-warning', id: 'reference-note' }, tx.refNote) : null,
  );
  if (c.status === 'no_release') {
    body.replaceChildren(meta, h('p', { class: 'notice notice-info', id: 'bench-message' }, tx.benchNoRelease));
    return;
  }
  if (c.status === 'below_threshold') {
    body.replaceChildren(meta, h('p', { class: 'notice notice-info', id: 'bench-message' }, tx.benchBelow(c.k_min ?? 5)));
    return;
  }
  if (c.status !== 'released' || !Array.isArray(c.metrics) || !c.metrics.length) {
    const notAssessable = Boolean(state.result && state.result.data && state.result.data.result && state.result.data.result.assessable === false);
    body.replaceChildren(meta, h('p', { class: 'notice notice-info', id: 'bench-message' }, notAssessable ? tx.benchNotAssessable : tx.benchNoData));
    return;
  }
  const metrics = c.metrics;
  const list = metrics.map((m) => `${metricLabel(m.metric, m.label)} ${m.percentile_rank === null || m.percentile_rank === undefined ? tx.notReleased : fmt(m.percentile_rank)}`).join(', ');
  const canvasBox = h('div', { class: 'chart-box chart-bars' }, h('canvas', { id: 'bench-chart', role: 'img', 'aria-label': tx.benchChartLabel(list) }));
  const perBar = window.matchMedia('(max-width: 30rem)').matches ? 40 : 34;
  canvasBox.style.height = `${Math.max(160, metrics.length * perBar + 70)}px`;
  const table = h(
    'details',
    { class: 'table-details' },
    h('summary', {}, tx.tableView),
    h(
      'div',
      { class: 'table-scroll', role: 'region', 'aria-label': tx.benchTitle, tabindex: '0' },
      h(
        'table',
        { class: 'bench-table' },
        h('thead', {}, h('tr', {}, [tx.colMetric, tx.colValue, tx.colPercentile, tx.colMedian, tx.colTop].map((x) => h('th', { scope: 'col' }, x)))),
        h(
          'tbody',
          {},
          metrics.map((m) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, metricLabel(m.metric, m.label)),
              h('td', {}, fmt(m.value)),
              h('td', {}, m.percentile_rank === null || m.percentile_rank === undefined ? tx.notReleased : fmt(m.percentile_rank)),
              h('td', {}, fmt(m.median)),
              h('td', {}, fmt(m.p75)),
            ),
          ),
        ),
      ),
    ),
  );
  const note = h('p', { class: 'muted percentile-note', id: 'percentile-note' }, tx.percentileNote);
  body.replaceChildren(meta, canvasBox, note, table);
  drawBars(metrics);
}
