/** The human form of a stats report: one line per subject, "none" where there is nothing to say. */
import type { Percentiles } from '../metrics/window.js';
import type { StatsReport } from './report.js';

const RES = { raw: 'raw samples', minute: 'per-minute rollups', hour: 'hourly rollups' } as const;
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const pct = (p: Percentiles | undefined, f: (v: number) => string) =>
  p ? `p50 ${f(p.p50)}  p95 ${f(p.p95)}  p99 ${f(p.p99)}` : 'none';
const share = (v: number) => `${Math.round(v * 100)}%`;

export function formatStats(r: StatsReport): string {
  const codes = Object.entries(r.tasks.errors_by_code).map(([c, n]) => `${c} ${n}`);
  const lines = [
    `reasond stats ${r.since} .. ${r.until} (heat and energy from ${RES[r.resolution]})`,
    `tasks        ${r.tasks.ok} ok, ${r.tasks.errors} errors${codes.length ? ` (${codes.join(', ')})` : ''}`,
    `latency      ${pct(r.latency_ms, sec)}`,
    `first token  ${pct(r.first_token_ms, sec)}`,
    `decode       ${r.decode_tokens_per_s ? `${pct(r.decode_tokens_per_s, (v) => v.toFixed(1))} tokens/s` : 'none'}`,
    `tokens       ${r.tokens}`,
    `temperature  ${
      r.temperature_c
        ? `avg ${r.temperature_c.avg.toFixed(1)} °C  max ${r.temperature_c.max.toFixed(1)} °C` +
          (r.thermal_share ? `  (soft ${share(r.thermal_share.soft)}, hard ${share(r.thermal_share.hard)} of samples)` : '')
        : 'none'
    }`,
    `energy       ${
      r.energy
        ? `${r.energy.joules.toFixed(1)} J` +
          (r.energy.joules_per_task !== undefined ? `  (${r.energy.joules_per_task.toFixed(2)} J per task` : '') +
          (r.energy.joules_per_token !== undefined ? `, ${r.energy.joules_per_token.toFixed(3)} J per token` : '') +
          (r.energy.joules_per_task !== undefined ? ')' : '')
        : 'none (no power rails)'
    }`,
  ];
  return lines.join('\n') + '\n';
}
