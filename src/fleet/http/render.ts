/**
 * The dashboard's tables rendered on the server (issue 20), from the same functions the JSON
 * endpoints answer with: the page arrives with its rows (no script needed, no empty tables in a
 * screenshot taken right after load), and the page's script refreshes by fetching the page again
 * and swapping these elements in, so the first paint and every later one come from this one file.
 * Everything that came from a device or an operator goes through esc().
 */
import type { JobResultMessage } from '../../protocol/index.js';
import type { fleetApi } from '../api.js';
import type { FleetEvent } from '../events.js';
import type { PackageRow } from '../package-store.js';
import { describeTarget } from '../rollout/plan.js';

type Api = ReturnType<typeof fleetApi>;
type Device = Awaited<ReturnType<Api['status']>>['devices'][number];
type RolloutShow = Awaited<ReturnType<Api['rollout']>>;

export interface DashboardData {
  now: number;
  devices: Device[];
  rollouts: RolloutShow[];
  jobs: JobResultMessage[];
  events: FleetEvent[];
  packages: PackageRow[];
}

/** The rollouts the page shows: the ten newest, each with its devices. */
const ROLLOUTS_SHOWN = 10;

export async function dashboardData(api: Api): Promise<DashboardData> {
  const [status, rollouts, jobs, events, packages] = await Promise.all([api.status(), api.rollouts(), api.jobs(), api.events(), api.packages()]);
  const shows = await Promise.all(rollouts.rollouts.slice(0, ROLLOUTS_SHOWN).map((r) => api.rollout(r.id)));
  return { now: status.at, devices: status.devices, rollouts: shows, jobs: jobs.jobs, events: events.events, packages: packages.packages };
}

export const esc = (s: unknown) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const fmt = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '' : v.toFixed(digits));
const iso = (at: number) => new Date(at).toISOString();

/** `42 s ago`, `12 min ago`, `5 h ago` for two days, then the UTC minute: the page's rule since issue 7. */
export function ago(at: number, now: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return iso(at).slice(0, 16).replace('T', ' ');
}

const when = (at: number, now: number, cls: string) => `<td class="${cls}" title="${esc(iso(at))}">${esc(ago(at, now))}</td>`;

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1073741824) return `${(n / 1048576).toFixed(1)} MiB`;
  return `${(n / 1073741824).toFixed(2)} GiB`;
}

export function totals(devices: Device[]): string {
  const online = devices.filter((d) => d.online);
  const tps = online.reduce((n, d) => n + (d.tokens_per_s ?? 0), 0);
  return `${devices.length} devices: ${online.length} online, ${devices.filter((d) => d.throttled).length} throttled; ${tps.toFixed(1)} tokens/s in all`;
}

function updateCell(u: Device['update']): string {
  if (!u) return '';
  const why = u.reason && (u.state === 'rejected' || u.state === 'rolled_back') ? ` (${u.reason})` : '';
  return `${u.state} ${u.version ?? ''}${why}`;
}

export function fleetRows(devices: Device[], now: number): string {
  return devices.map((d) =>
    `<tr data-device="${esc(d.device)}" class="${d.online ? 'online' : 'offline'}">` +
    `<td>${esc(d.device)}</td><td>${d.online ? 'yes' : 'no'}</td><td>${esc(d.pool)}</td><td>${esc(d.model)}</td>` +
    `<td>${fmt(d.tokens_per_s)}</td><td>${fmt(d.temp_c)}</td><td>${fmt(d.rss_bytes === null ? null : d.rss_bytes / 1048576, 0)}</td>` +
    `<td>${esc(d.queue_depth)}</td><td class="throttled">${d.throttled ? 'yes' : 'no'}</td><td class="update">${esc(updateCell(d.update))}</td>` +
    `<td class="seen" title="${esc(iso(d.last_seen))}">${esc(ago(d.last_seen, now))}</td></tr>`).join('');
}

/** Each wave's devices with their state (coloured too) and the reason a device failed or was skipped, in words. */
export function rolloutRows(shows: RolloutShow[]): string {
  return shows.map(({ rollout: r, devices }) => {
    const waves: (typeof devices)[] = [];
    for (const d of devices) (waves[d.wave] ??= []).push(d);
    const waveCells = waves.map((w, i) => `<span class="wave${i === r.wave ? ' current' : ''}">${i}: ` +
      w.map((d) => `<span class="dev st-${esc(d.state)}" data-device="${esc(d.device)}">${esc(d.device)} (${esc(d.state)}${d.reason ? `: ${esc(d.reason)}` : ''})</span>`).join(' ') +
      '</span>').join('');
    return `<tr data-rollout="${esc(r.id)}"><td>${esc(r.id)}</td><td>${esc(`${r.name}@${r.version}`)}</td><td class="target">${esc(describeTarget(r.target))}</td>` +
      `<td class="by">${esc(r.created_by)}</td><td class="st-${esc(r.state)}">${esc(r.state)}${r.reason ? `: ${esc(r.reason)}` : ''}</td>` +
      `<td class="wave-of">${Math.min(r.wave + 1, r.waves)}/${r.waves}</td><td class="waves">${waveCells}</td></tr>`;
  }).join('');
}

// a run that raised alerts is highlighted, with each rule named; a failed run shows its error in place of an answer
export function jobRows(jobs: JobResultMessage[], now: number): string {
  return jobs.map((j) =>
    `<tr data-device="${esc(j.device)}" data-job="${esc(j.job)}"${j.alerts.length ? ' class="alerting"' : ''}>` +
    `<td>${esc(j.device)}</td><td>${esc(j.job)}</td><td class="st-${esc(j.status)}">${esc(j.status)}</td>` +
    `<td class="answer">${esc(j.status === 'ok' ? j.answer : j.error ? `${j.error.code}: ${j.error.message}` : '')}</td><td>${esc(j.value)}</td>` +
    `<td class="alerts">${j.alerts.map((a) => `<span class="alert">${esc(a)}</span>`).join('')}</td>` +
    `${when(j.finished_at, now, 'finished')}<td>${esc(j.trigger)}</td></tr>`).join('');
}

export function eventRows(events: FleetEvent[], now: number): string {
  return events.map((e) =>
    `<tr data-device="${esc(e.device)}" data-type="${esc(e.type)}"><td>${esc(e.device)}</td>${when(e.at, now, 'at')}` +
    `<td class="type">${esc(e.type)}</td><td class="summary">${esc(e.summary)}</td></tr>`).join('');
}

export function packageRows(packages: PackageRow[], now: number): string {
  return packages.map((p) =>
    `<tr data-package="${esc(`${p.name}@${p.version}`)}"><td>${esc(p.name)}</td><td>${esc(p.version)}</td>` +
    `<td class="bytes" title="${p.bytes} bytes">${esc(bytes(p.bytes))}</td><td class="key">${esc(p.key_id)}</td>` +
    `${when(p.uploaded_at, now, 'uploaded')}<td class="by">${esc(p.uploaded_by)}</td></tr>`).join('');
}

/** A table's body, or one row saying it has none (so an empty table reads as empty, not as not loaded). */
export const body = (rows: string, columns: number, none: string) => rows || `<tr class="none"><td colspan="${columns}">${esc(none)}</td></tr>`;
