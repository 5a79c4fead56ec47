/** `--since 24h` / `--since 2026-11-28T00:00Z`: a time the stats range starts at. */
import { ReasondError } from '../../core/errors.js';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Epoch ms for a duration back from `now` (30m, 24h, 7d, 2w) or an ISO date. */
export function parseSince(text: string, now: number): number {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw])$/.exec(text.trim());
  if (m) return now - Number(m[1]) * UNITS[m[2]!]!;
  // only full dates: Date.parse would read "24" as the year 2024
  const at = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (Number.isFinite(at)) return at;
  throw new ReasondError('invalid_request', `--since ${JSON.stringify(text)}: give a duration such as 30m, 24h, 7d, or an ISO date`);
}
