/** Plain-text tables and the rollout progress line for `reasond fleet` (issue 7). */
import type { JobResultMessage } from '../protocol/index.js';

export function table(head: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [head, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd()).join('\n') + '\n';
}

const n = (v: unknown, digits = 1) => (typeof v === 'number' ? v.toFixed(digits) : null);

export function statusTable(devices: Record<string, any>[]): string {
  return table(
    ['DEVICE', 'ONLINE', 'MODEL', 'TOK/S', 'TEMP', 'MEMORY', 'QUEUE', 'UPDATE'],
    devices.map((d) => [
      d.device, d.online ? 'yes' : 'no', d.model, n(d.tokens_per_s), d.temp_c === null ? null : `${n(d.temp_c)}°C`,
      d.rss_bytes === null ? null : `${Math.round(d.rss_bytes / 1048576)} MiB`, d.queue_depth,
      d.update ? `${d.update.state} ${d.update.version ?? ''}`.trim() + (d.update.reason && ['rejected', 'rolled_back'].includes(d.update.state) ? ` (${d.update.reason})` : '') : null,
    ]),
  );
}

export function rolloutsTable(rollouts: Record<string, any>[]): string {
  return table(['ID', 'PACKAGE', 'STATE', 'WAVE', 'CREATED', 'BY', 'REASON'], rollouts.map((r) => [
    r.id, `${r.name}@${r.version}`, r.state, `${Math.min(r.wave + 1, r.waves)}/${r.waves}`, new Date(r.created_at).toISOString().slice(0, 19) + 'Z', r.created_by, r.reason,
  ]));
}

/** `fleet packages`: the controller's package store, with who uploaded each (issue 16). */
export function packagesTable(packages: Record<string, any>[]): string {
  return table(['PACKAGE', 'BYTES', 'SIGNED BY KEY', 'UPLOADED', 'BY'], packages.map((p) => [
    `${p.name}@${p.version}`, p.bytes, p.key_id, new Date(p.uploaded_at).toISOString().slice(0, 19) + 'Z', p.uploaded_by,
  ]));
}

/** `42 s ago`, `12 min ago`, `5 h ago` for the last two days (the dashboard's rule), then the ISO time. */
export function ago(at: number, now: number): string {
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return new Date(at).toISOString().slice(0, 19) + 'Z';
}

/** An answer on one line of a table: a model may answer in paragraphs. */
const oneLine = (s: string, max = 48) => {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1).trimEnd()}…` : line;
};

/** `fleet jobs`: each device's latest result of each scheduled job (issue 18); a failed run shows its error code. */
export function jobsTable(jobs: JobResultMessage[], now: number): string {
  return table(['DEVICE', 'JOB', 'STATUS', 'ANSWER', 'VALUE', 'ALERTS', 'FINISHED', 'TRIGGER'], jobs.map((j) => [
    j.device, j.job, j.status, j.status === 'ok' ? oneLine(j.answer ?? '') || null : j.error?.code, j.value, j.alerts.join(', ') || null, ago(j.finished_at, now), j.trigger,
  ]));
}

/** `wave 2/3: 3 active, 1 deploying, 0 failed` */
export function progressLine(show: { rollout: Record<string, any>; devices: Record<string, any>[] }): string {
  const r = show.rollout;
  const count = (s: string) => show.devices.filter((d) => d.state === s).length;
  const parts = ['active', 'deploying', 'failed', 'rolling_back', 'rolled_back', 'skipped'].map((s) => [s, count(s)] as const).filter(([, c]) => c > 0).map(([s, c]) => `${c} ${s.replace('_', ' ')}`);
  return `${r.id} ${r.name}@${r.version}: ${r.state}, wave ${Math.min(r.wave + 1, r.waves)}/${r.waves}: ${parts.join(', ') || 'nothing started'}`;
}
