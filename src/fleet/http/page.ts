/**
 * The dashboard page (issue 7): fleet totals and table, per-device charts (uPlot) of tokens/s,
 * latency, temperature and memory, the rollouts with their waves, each device's latest
 * scheduled-job results (issue 18), the fleet's recent events and the package store (issue 20).
 * The tables arrive rendered (render.ts); every 5 s the script fetches the page again and swaps
 * each `data-live` element for its new copy, and draws the charts, which need JavaScript anyway.
 * Ids (#totals, #fleet, #charts, #rollouts, #jobs, #events, #packages) and data-* attributes are
 * what the browser tests read.
 */
import { body, eventRows, fleetRows, jobRows, packageRows, rolloutRows, totals, type DashboardData } from './render.js';

const table = (id: string, head: string[], rows: string, none: string) =>
  `<table id="${id}" data-live><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body(rows, head.length, none)}</tbody></table>`;

export function dashboardPage(d: DashboardData): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>reasond fleet</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/uPlot.min.css">
<style>
 body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
 table { border-collapse: collapse; margin-bottom: 1.5em; } th, td { padding: .25em .7em; border-bottom: 1px solid #ddd; text-align: left; white-space: nowrap; }
 td.update, td.waves, td.answer, td.summary { white-space: normal; }
 tr.offline { color: #999; } #fleet tr[data-device] { cursor: pointer; } tr.selected { background: #eef4ff; } tr.none td { color: #777; font-style: italic; }
 .charts { display: flex; flex-wrap: wrap; gap: 1em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
 .empty { width: 420px; height: 180px; color: #777; display: flex; align-items: center; justify-content: center; border: 1px dashed #ccc; margin: 0; }
 .wave { display: inline-block; margin-right: .6em; } .wave.current { font-weight: 600; } .st-active, .st-completed, .st-ok { color: #080; } .st-failed, .st-aborted, .st-error, .st-rolled_back { color: #b00; }
 tr.alerting { background: #fff0ee; } .alert { color: #b00; font-weight: 600; margin-right: .4em; } td.answer, td.summary { max-width: 40em; }
</style></head>
<body>
<h1>reasond fleet</h1>
<p id="totals" data-live>${totals(d.devices)}</p>
${table('fleet', ['device', 'online', 'pool', 'model', 'tok/s', 'temp °C', 'memory MiB', 'queue', 'throttled', 'update', 'last seen'], fleetRows(d.devices, d.now), 'no device has reported yet')}
<h2 id="charts-title">charts</h2>
<div id="charts" class="charts"></div>
<h2>rollouts</h2>
${table('rollouts', ['id', 'package', 'target', 'by', 'state', 'wave', 'devices by wave'], rolloutRows(d.rollouts), 'no rollouts')}
<h2>jobs</h2>
${table('jobs', ['device', 'job', 'status', 'answer', 'value', 'alerts', 'finished', 'trigger'], jobRows(d.jobs, d.now), 'no job results')}
<h2>recent events</h2>
${table('events', ['device', 'time', 'type', 'what happened'], eventRows(d.events, d.now), 'no events this week')}
<h2>packages</h2>
${table('packages', ['name', 'version', 'size', 'signed by key', 'uploaded', 'by'], packageRows(d.packages, d.now), 'no packages uploaded')}
${SCRIPT}
</body></html>
`;
}

const SCRIPT = `<script src="/assets/uPlot.iife.min.js"></script>
<script>
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
let selected = null;
const CHARTS = [['tokens_per_s', 'tokens/s'], ['latency_ms', 'latency ms'], ['temp_c', 'temperature °C'], ['rss_mib', 'memory MiB']];

async function getJson(path) { const r = await fetch(path); if (!r.ok) throw new Error(path + ': ' + r.status); return r.json(); }

function select() {
  for (const tr of document.querySelectorAll('#fleet tr[data-device]')) tr.classList.toggle('selected', tr.dataset.device === selected);
}

// the tables come rendered from the server: a refresh is the page again, each live element swapped for its new copy
async function tables() {
  const r = await fetch('/', { cache: 'no-store' });
  if (!r.ok) throw new Error('/: ' + r.status);
  const fresh = new DOMParser().parseFromString(await r.text(), 'text/html');
  for (const el of fresh.querySelectorAll('[data-live]')) document.getElementById(el.id)?.replaceWith(document.adoptNode(el));
  select();
}

document.addEventListener('click', (e) => {
  const tr = e.target.closest('#fleet tr[data-device]');
  if (!tr) return;
  selected = tr.dataset.device;
  select();
  charts();
});

async function charts() {
  if (!selected) return;
  const h = await getJson('/api/devices/' + encodeURIComponent(selected) + '/history?since_ms=86400000&points=300');
  $('#charts-title').textContent = 'charts: ' + selected;
  const box = $('#charts');
  box.innerHTML = '';
  const xs = h.points.map((p) => p.at / 1000);
  for (const [key, label] of CHARTS) {
    const ys = h.points.map((p) => (key === 'rss_mib' ? (p.rss_bytes === null ? null : p.rss_bytes / 1048576) : p[key]));
    const div = document.createElement('div');
    div.className = 'chart';
    div.dataset.series = key;
    div.dataset.points = String(ys.filter((v) => v !== null && v !== undefined).length);
    box.appendChild(div);
    if (div.dataset.points === '0') {
      // a board without a sensor (or no metrics yet) gets a note, not an empty axis
      div.innerHTML = '<p class="empty">' + esc(label) + ': nothing reported by ' + esc(selected) + (key === 'temp_c' ? ' (no temperature sensor)' : '') + '</p>';
      continue;
    }
    // the axis spans the window asked for (24 h), so one sample is one dot at its time, not a span of years
    div.dataset.from = String(h.since / 1000);
    div.dataset.to = String(h.until / 1000);
    new uPlot({
      title: label, width: 420, height: 180, legend: { live: false },
      scales: { x: { time: true, range: () => [h.since / 1000, h.until / 1000] } },
      series: [{}, { label, stroke: '#2a6edb', spanGaps: true, points: { show: true } }],
    }, [xs, ys], div);
  }
}

async function refresh() {
  try {
    await tables();
    if (!selected) { selected = $('#fleet tr[data-device]')?.dataset.device ?? null; select(); }
    await charts();
    document.body.dataset.loaded = 'yes';
  } catch (e) { console.error(e); }
}
// at load only the charts are drawn: the tables are already the server's
selected = $('#fleet tr[data-device]')?.dataset.device ?? null;
select();
charts().then(() => { document.body.dataset.loaded = 'yes'; }, (e) => console.error(e));
setInterval(refresh, 5000);
</script>`;
