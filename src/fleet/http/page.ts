/**
 * The dashboard page (issue 7), kept as a string so it ships inside dist/
 * with no build step: the fleet table, per-device charts (uPlot) of
 * tokens/s, latency, temperature and memory, the rollouts with their
 * waves, and each device's latest scheduled-job results (issue 18). It polls
 * the JSON every 5 s; ids (#fleet, #charts, #rollouts, #jobs) and data-*
 * attributes are what the browser tests read.
 */
export const dashboardPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>reasond fleet</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/uPlot.min.css">
<style>
 body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
 table { border-collapse: collapse; margin-bottom: 1.5em; } th, td { padding: .25em .7em; border-bottom: 1px solid #ddd; text-align: left; }
 tr.offline { color: #999; } #fleet tr[data-device] { cursor: pointer; } tr.selected { background: #eef4ff; }
 .charts { display: flex; flex-wrap: wrap; gap: 1em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
 .empty { width: 420px; height: 180px; color: #777; display: flex; align-items: center; justify-content: center; border: 1px dashed #ccc; margin: 0; }
 .wave { display: inline-block; margin-right: .6em; } .st-active, .st-completed, .st-ok { color: #080; } .st-failed, .st-aborted, .st-error { color: #b00; }
 tr.alerting { background: #fff0ee; } .alert { color: #b00; font-weight: 600; margin-right: .4em; } td.answer { max-width: 32em; }
</style></head>
<body>
<h1>reasond fleet</h1>
<p id="totals"></p>
<table id="fleet"><thead><tr><th>device</th><th>online</th><th>pool</th><th>model</th><th>tok/s</th><th>temp °C</th><th>memory MiB</th><th>queue</th><th>throttled</th><th>update</th><th>last seen</th></tr></thead><tbody></tbody></table>
<h2 id="charts-title">charts</h2>
<div id="charts" class="charts"></div>
<h2>rollouts</h2>
<table id="rollouts"><thead><tr><th>id</th><th>package</th><th>target</th><th>by</th><th>state</th><th>waves</th></tr></thead><tbody></tbody></table>
<h2>jobs</h2>
<table id="jobs"><thead><tr><th>device</th><th>job</th><th>status</th><th>answer</th><th>value</th><th>alerts</th><th>finished</th><th>trigger</th></tr></thead><tbody></tbody></table>
<script src="/assets/uPlot.iife.min.js"></script>
<script>
const $ = (s) => document.querySelector(s);
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const fmt = (v, d = 1) => (v === null || v === undefined ? '' : Number(v).toFixed(d));
let selected = null;
const CHARTS = [['tokens_per_s', 'tokens/s'], ['latency_ms', 'latency ms'], ['temp_c', 'temperature °C'], ['rss_mib', 'memory MiB']];
const ago = (at) => { const s = Math.max(0, Math.round((Date.now() - at) / 1000)); return s < 120 ? s + ' s ago' : s < 7200 ? Math.round(s / 60) + ' min ago' : s < 172800 ? Math.round(s / 3600) + ' h ago' : new Date(at).toISOString().slice(0, 16).replace('T', ' '); };
const target = (t) => !t ? '' : t.kind === 'all' ? 'all' : t.kind === 'pool' ? 'pool=' + t.pool : t.kind === 'devices' ? 'devices=' + t.devices.join(',') : 'label:' + Object.entries(t.labels || {}).map(([k, v]) => k + '=' + v).join(',');

async function getJson(path) { const r = await fetch(path); if (!r.ok) throw new Error(path + ': ' + r.status); return r.json(); }

async function fleet() {
  const { devices } = await getJson('/api/status');
  const online = devices.filter((d) => d.online);
  const tps = online.reduce((n, d) => n + (d.tokens_per_s || 0), 0);
  $('#totals').textContent = devices.length + ' devices: ' + online.length + ' online, ' + devices.filter((d) => d.throttled).length + ' throttled; ' + tps.toFixed(1) + ' tokens/s in all';
  $('#fleet tbody').innerHTML = devices.map((d) =>
    '<tr data-device="' + esc(d.device) + '" class="' + (d.online ? 'online' : 'offline') + (d.device === selected ? ' selected' : '') + '">' +
    '<td>' + esc(d.device) + '</td><td>' + (d.online ? 'yes' : 'no') + '</td><td>' + esc(d.pool) + '</td><td>' + esc(d.model) + '</td>' +
    '<td>' + fmt(d.tokens_per_s) + '</td><td>' + fmt(d.temp_c) + '</td><td>' + fmt(d.rss_bytes && d.rss_bytes / 1048576, 0) + '</td>' +
    '<td>' + esc(d.queue_depth) + '</td><td class="throttled">' + (d.throttled ? 'yes' : 'no') + '</td><td>' + esc(d.update ? d.update.state + ' ' + (d.update.version || '') + (d.update.reason && (d.update.state === 'rejected' || d.update.state === 'rolled_back') ? ' (' + d.update.reason + ')' : '') : '') + '</td><td class="seen">' + esc(d.last_seen ? ago(d.last_seen) : '') + '</td></tr>').join('');
  for (const tr of document.querySelectorAll('#fleet tr[data-device]')) tr.onclick = () => { selected = tr.dataset.device; charts(); fleet(); };
  if (!selected && devices.length) { selected = devices[0].device; charts(); }
}

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

async function rollouts() {
  const { rollouts } = await getJson('/api/rollouts');
  const rows = [];
  for (const r of rollouts.slice(0, 10)) {
    const { devices } = await getJson('/api/rollouts/' + encodeURIComponent(r.id));
    const waves = [];
    for (const d of devices) (waves[d.wave] = waves[d.wave] || []).push(d);
    rows.push('<tr data-rollout="' + esc(r.id) + '"><td>' + esc(r.id) + '</td><td>' + esc(r.name + '@' + r.version) + '</td><td class="target">' + esc(target(r.target)) + '</td><td class="by">' + esc(r.created_by || '') +
      '</td><td class="st-' + esc(r.state) + '">' + esc(r.state) + (r.reason ? ': ' + esc(r.reason) : '') + '</td><td>' +
      waves.map((w, i) => '<span class="wave' + (i === r.wave ? ' current' : '') + '">' + i + ': ' + w.map((d) => '<span class="st-' + esc(d.state) + '" title="' + esc(d.reason) + '">' + esc(d.device) + '</span>').join(' ') + '</span>').join('') +
      '</td></tr>');
  }
  $('#rollouts tbody').innerHTML = rows.join('');
}

// a run that raised alerts is highlighted, with each rule named; a failed run shows its error in place of an answer
async function jobs() {
  const { jobs } = await getJson('/api/jobs');
  $('#jobs tbody').innerHTML = jobs.map((j) =>
    '<tr data-device="' + esc(j.device) + '" data-job="' + esc(j.job) + '"' + (j.alerts.length ? ' class="alerting"' : '') + '>' +
    '<td>' + esc(j.device) + '</td><td>' + esc(j.job) + '</td><td class="st-' + esc(j.status) + '">' + esc(j.status) + '</td>' +
    '<td class="answer">' + esc(j.status === 'ok' ? j.answer : j.error ? j.error.code + ': ' + j.error.message : '') + '</td><td>' + esc(j.value) + '</td>' +
    '<td class="alerts">' + j.alerts.map((a) => '<span class="alert">' + esc(a) + '</span>').join('') + '</td>' +
    '<td class="finished" title="' + esc(new Date(j.finished_at).toISOString()) + '">' + esc(ago(j.finished_at)) + '</td><td>' + esc(j.trigger) + '</td></tr>').join('');
}

async function refresh() {
  try { await fleet(); await rollouts(); await jobs(); document.body.dataset.loaded = 'yes'; } catch (e) { console.error(e); }
}
refresh();
setInterval(() => { refresh(); charts(); }, 5000);
</script>
</body></html>
`;
