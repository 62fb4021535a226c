/* global document, window, uPlot */
// Verity dashboard: local times, charts, live refresh. Loaded from /assets/ only (strict CSP):
// no eval, no inline handlers, all data read from escaped data-* attributes or same-origin JSON.
'use strict';

(function () {
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  const units = [['year', 31536000], ['month', 2592000], ['week', 604800], ['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];

  function relative(date) {
    const diff = (date.getTime() - Date.now()) / 1000;
    for (const [unit, secs] of units) {
      if (Math.abs(diff) >= secs || unit === 'second') return rtf.format(Math.round(diff / secs), unit);
    }
    return '';
  }

  function formatTimes(root) {
    for (const el of root.querySelectorAll('time[data-rel]')) {
      const d = new Date(el.getAttribute('datetime'));
      if (Number.isNaN(d.getTime())) continue;
      el.textContent = `${d.toLocaleString()} (${relative(d)})`;
      el.title = d.toISOString();
    }
  }

  const colours = { integrity: '#2f7d4f', availability: '#3864b4', 'requests/s': '#3864b4', 'errors/s': '#c0392b', p50: '#3864b4', p99: '#b7791f' };

  function marksPlugin(marks) {
    return {
      hooks: {
        draw: [(u) => {
          const ctx = u.ctx;
          ctx.save();
          for (const m of marks) {
            const x = Math.round(u.valToPos(m.t, 'x', true));
            ctx.strokeStyle = m.severity === 'bad' ? '#c0392b' : m.severity === 'admin' ? '#7b3fb0' : '#888';
            ctx.lineWidth = 2 * window.devicePixelRatio;
            ctx.setLineDash(m.severity === 'admin' ? [6, 4] : []);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
          }
          ctx.restore();
        }],
      },
    };
  }

  function options(spec, width) {
    const trust = spec.kind === 'trust';
    return {
      width,
      height: trust ? 260 : 220,
      plugins: spec.marks && spec.marks.length ? [marksPlugin(spec.marks)] : [],
      scales: trust ? { x: { time: true }, y: { range: [0, 1] } } : { x: { time: true } },
      series: [{}].concat(spec.series.map((s) => ({
        label: s.label,
        stroke: colours[s.label] || '#555',
        // On an honest node both scores often sit at the same value: availability is drawn
        // first, wide and dashed, and integrity thin on top of it, so each stays visible.
        width: s.label === 'availability' ? 6 : 2,
        dash: s.label === 'availability' || s.label === 'audits/s' ? [10, 6] : undefined,
        paths: trust ? uPlot.paths.stepped({ align: 1 }) : undefined,
        points: { show: trust },
        value: (u, v) => (v == null ? '–' : trust ? v.toFixed(3) : `${v} ${s.unit || ''}`),
      }))),
      axes: [{}, { size: 56 }],
    };
  }

  function dataOf(spec) {
    return [spec.x].concat(spec.series.map((s) => s.values));
  }

  // A line needs two points: with fewer, uPlot draws an axis of made-up years and no line, so
  // the server's empty-state text stays until the data (refreshed or not) has two.
  const MIN_POINTS = 2;

  function initChart(el) {
    if (el.dataset.ready || typeof uPlot === 'undefined') return;
    el.dataset.ready = '1';
    const spec = JSON.parse(el.getAttribute('data-chart'));
    const width = () => Math.max(260, el.clientWidth || el.parentElement.clientWidth - 24);
    let plot = null;
    const show = (next) => {
      if (plot) return plot.setData(dataOf(next));
      if (next.x.length < MIN_POINTS) return undefined;
      el.textContent = '';
      plot = new uPlot(options(next, width()), dataOf(next), el);
      window.addEventListener('resize', () => plot.setSize({ width: width(), height: plot.height }));
      return undefined;
    };
    show(spec);
    const src = el.getAttribute('data-refresh');
    if (src) {
      window.setInterval(() => {
        fetch(src, { credentials: 'same-origin', headers: { accept: 'application/json' } })
          .then((r) => (r.ok ? r.json() : null))
          .then((next) => { if (next) show(next); })
          .catch(() => undefined);
      }, 10000);
    }
  }

  function init(root) {
    formatTimes(root);
    for (const el of root.querySelectorAll('.chart[data-chart]')) initChart(el);
  }

  document.addEventListener('DOMContentLoaded', () => {
    init(document);
    window.setInterval(() => formatTimes(document), 30000);
  });
  document.addEventListener('htmx:afterSwap', (e) => init(e.target));
})();
