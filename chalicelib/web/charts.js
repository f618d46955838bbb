// Chart.js (vendored UMD, loaded on first use) and the radar and benchmark bar charts.

import { $, h } from './dom.js';
import { t } from './i18n.js';
import { state } from './state.js';

export function destroyCharts() {
  for (const c of state.charts) c.destroy();
  state.charts = [];
}

export let chartLoading = null;

export function loadChart() {
  if (window.Chart) return Promise.resolve(window.Chart);
  if (!chartLoading) {
    chartLoading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = 'static/chart.umd.min.js';
      s.onload = () => (window.Chart ? resolve(window.Chart) : reject(new Error('Chart.js did not load')));
      s.onerror = () => {
        chartLoading = null;
        s.remove();
        reject(new Error('Chart.js did not load'));
      };
      document.head.append(s);
    });
  }
  return chartLoading;
}

export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export function wrapLabel(text, max = 16) {
  const words = String(text).split(/\s+/);
  const lines = [];
  let line = '';
  for (const w of words) {
    if (line && (line + ' ' + w).length > max) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines;
}

export function chartDefaults(Chart) {
  Chart.defaults.font.family = cssVar('--font') || 'system-ui, sans-serif';
  Chart.defaults.color = cssVar('--text') || '#1b2430';
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
}

/** Chart.js and the canvas to draw on, or null: the library failed to load (the chart's
 * box then says so) or the page moved on while it loaded (`state.seq` changed). */
async function chartFor(canvasSel, boxSel) {
  const seq = state.seq;
  let Chart;
  try {
    Chart = await loadChart();
  } catch {
    const box = boxSel ? $(boxSel) : $(canvasSel)?.parentElement;
    if (box) box.replaceChildren(h('p', { class: 'muted' }, t().chartFailed));
    return null;
  }
  const canvas = $(canvasSel);
  if (!canvas || seq !== state.seq) return null;
  chartDefaults(Chart);
  return { Chart, canvas };
}

export async function drawRadar(r) {
  const drawn = await chartFor('#radar', '.chart-radar');
  if (!drawn) return;
  const { Chart, canvas } = drawn;
  const accent = cssVar('--accent');
  const narrow = window.matchMedia('(max-width: 30rem)').matches;
  const chart = new Chart(canvas, {
      type: 'radar',
      data: {
        labels: r.dimensions.map((d) => wrapLabel(d.name, narrow ? 11 : 18)),
        datasets: [
          {
            label: t().dimsTitle,
            data: r.dimensions.map((d) => d.score),
            backgroundColor: cssVar('--accent-fill'),
            borderColor: accent,
            pointBackgroundColor: accent,
            pointRadius: 4,
            borderWidth: 2,
            spanGaps: true,
          },
        ],
      },
      options: {
        plugins: { legend: { display: false } },
        scales: {
          r: {
            min: 0,
            max: 100,
            ticks: { stepSize: 20, backdropColor: 'transparent', color: cssVar('--muted'), font: { size: 10 } },
            pointLabels: { font: { size: narrow ? 11 : 13, weight: '600' }, color: cssVar('--text') },
            grid: { color: cssVar('--line') },
            angleLines: { color: cssVar('--line') },
          },
        },
      },
    });
  state.charts.push(chart);
  keepLabelsInside(chart);
}

/** Chart.js fits a radar's point labels into the canvas only roughly: on a narrow screen
 * (390 px) a long side label ("Inhalte und Community") ran over the canvas edge and was cut
 * off. Measure the laid-out labels and pad the chart by the overflow until they fit. */
function keepLabelsInside(chart) {
  const pad = { left: 0, right: 0, top: 0, bottom: 0 };
  for (let round = 0; round < 4; round += 1) {
    const items = chart.scales.r && chart.scales.r._pointLabelItems;
    if (!Array.isArray(items) || !items.length) return;
    const left = Math.max(0, ...items.map((i) => 2 - i.left));
    const right = Math.max(0, ...items.map((i) => i.right - (chart.width - 2)));
    const top = Math.max(0, ...items.map((i) => 2 - i.top));
    const bottom = Math.max(0, ...items.map((i) => i.bottom - (chart.height - 2)));
    if (!left && !right && !top && !bottom) return;
    // symmetric, so the radar stays centred
    const side = Math.ceil(Math.max(left, right));
    const vert = Math.ceil(Math.max(top, bottom));
    pad.left += side;
    pad.right += side;
    pad.top += vert;
    pad.bottom += vert;
    chart.options.layout = { ...(chart.options.layout || {}), padding: { ...pad } };
    chart.update();
  }
}

export async function drawBars(metrics) {
  const drawn = await chartFor('#bench-chart', '.chart-bars');
  if (!drawn) return;
  const { Chart, canvas } = drawn;
  const narrow = window.matchMedia('(max-width: 30rem)').matches;
  state.charts.push(
    new Chart(canvas, {
      type: 'bar',
      data: {
        labels: metrics.map((m) => wrapLabel(m.label || m.metric, narrow ? 14 : 26)),
        datasets: [
          {
            label: t().colPercentile,
            data: metrics.map((m) => (m.percentile_rank === null || m.percentile_rank === undefined ? null : m.percentile_rank)),
            backgroundColor: cssVar('--accent'),
            borderRadius: 3,
            maxBarThickness: 22,
          },
        ],
      },
      options: {
        indexAxis: 'y',
        plugins: { legend: { display: false } },
        scales: {
          x: {
            min: 0,
            max: 100,
            ticks: { stepSize: 25 },
            grid: { color: cssVar('--line') },
            title: { display: true, text: t().percentileAxis, font: { size: narrow ? 10 : 12 } },
          },
          y: { grid: { display: false }, ticks: { autoSkip: false, font: { size: narrow ? 10 : 12 } } },
        },
      },
    }),
  );
}

/** A horizontal bar chart of before/after pairs on a 0..100 axis (re-assessment). */
export async function drawPairs(id, labels, before, after, beforeLabel, afterLabel, axis) {
  const drawn = await chartFor(`#${CSS.escape(id)}`);
  if (!drawn) return;
  const { Chart, canvas } = drawn;
  const narrow = window.matchMedia('(max-width: 30rem)').matches;
  state.charts.push(
    new Chart(canvas, {
      type: 'bar',
      data: {
        labels: labels.map((l) => wrapLabel(l, narrow ? 14 : 26)),
        datasets: [
          { label: beforeLabel, data: before, backgroundColor: cssVar('--accent-mid'), borderRadius: 3, maxBarThickness: 16 },
          { label: afterLabel, data: after, backgroundColor: cssVar('--accent'), borderRadius: 3, maxBarThickness: 16 },
        ],
      },
      options: {
        indexAxis: 'y',
        plugins: { legend: { display: true, position: 'top' } },
        scales: {
          x: { min: 0, max: 100, ticks: { stepSize: 25 }, grid: { color: cssVar('--line') }, title: { display: true, text: axis, font: { size: narrow ? 10 : 12 } } },
          y: { grid: { display: false }, ticks: { autoSkip: false, font: { size: narrow ? 10 : 12 } } },
        },
      },
    }),
  );
}

/** The history of an organisation's rounds (org.js): 0..100 scores and the peer percentile on
 * the left axis, phase (0..7) and pyramid level (0..5) on the right; a dashed vertical line
 * where the questionnaire version changed (`marks`: indexes of those rounds). */
export async function drawHistory(id, labels, scoreSets, levelSets, marks, axes) {
  const drawn = await chartFor(`#${CSS.escape(id)}`);
  if (!drawn) return;
  const { Chart, canvas } = drawn;
  const palette = ['#1f5fa8', '#4C9F70', '#C77C2E', '#7E57C2', '#2E86C1', '#C0392B', '#7F8C8D', '#16a085'];
  const warn = cssVar('--warn-line') || '#c77c2e';
  const versionMarks = {
    id: 'versionMarks',
    afterDatasetsDraw(chart) {
      const x = chart.scales.x;
      const { top, bottom } = chart.chartArea;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = warn;
      ctx.setLineDash([6, 4]);
      ctx.lineWidth = 2;
      for (const i of marks) {
        const px = x.getPixelForValue(i);
        ctx.beginPath();
        ctx.moveTo(px, top);
        ctx.lineTo(px, bottom);
        ctx.stroke();
      }
      ctx.restore();
    },
  };
  const datasets = [
    ...scoreSets.map((s, i) => ({ label: s.label, data: s.data, yAxisID: 'y', borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length], borderDash: s.dashed ? [4, 3] : [], spanGaps: true, pointRadius: 4 })),
    ...levelSets.map((s, i) => ({ label: s.label, data: s.data, yAxisID: 'y2', stepped: true, borderColor: i ? '#555' : '#111', backgroundColor: i ? '#555' : '#111', borderWidth: 3, pointStyle: 'rectRot', pointRadius: 5, spanGaps: true })),
  ];
  state.charts.push(
    new Chart(canvas, {
      type: 'line',
      data: { labels, datasets },
      options: {
        plugins: { legend: { display: true, position: 'bottom' } },
        scales: {
          y: { min: 0, max: 100, position: 'left', title: { display: true, text: axes.score } },
          y2: { min: 0, max: 7, position: 'right', ticks: { stepSize: 1 }, grid: { drawOnChartArea: false }, title: { display: true, text: axes.level } },
        },
      },
      plugins: [versionMarks],
    }),
  );
}
