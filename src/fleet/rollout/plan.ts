/**
 * Rollout plans (issue 7), pure: which devices a target names, and how they
 * split into a canary wave and percentage waves. Wave percentages are
 * cumulative shares of the whole target (canary included), rounded up, and
 * every wave after the canary takes at least one new device while any are
 * left, so `--canary 1 --waves 50,100` on six boards is [1], [2], [3].
 */
import { ReasondError } from '../../core/errors.js';

export type Target =
  | { kind: 'all' }
  | { kind: 'pool'; pool: string }
  | { kind: 'devices'; devices: string[] }
  | { kind: 'labels'; labels: Record<string, string> };

export interface TargetDevice {
  device: string;
  pool: string | null;
  labels: Record<string, string>;
}

/** `all`, `pool=NAME`, `devices=a,b,c` or `label:key=value[,key=value]`. */
export function parseTarget(text: string): Target {
  const t = text.trim();
  if (t === 'all') return { kind: 'all' };
  if (t.startsWith('pool=') && t.length > 5) return { kind: 'pool', pool: t.slice(5) };
  if (t.startsWith('devices=')) {
    const devices = t.slice(8).split(',').map((d) => d.trim()).filter(Boolean);
    if (devices.length) return { kind: 'devices', devices };
  }
  if (t.startsWith('label:')) {
    const pairs = t.slice(6).split(',').map((p) => p.split('='));
    if (pairs.length && pairs.every((p) => p.length === 2 && p[0] && p[1])) return { kind: 'labels', labels: Object.fromEntries(pairs) };
  }
  throw new ReasondError('invalid_request', `target must be all, pool=NAME, devices=a,b or label:key=value; got ${JSON.stringify(text)}`);
}

export function describeTarget(t: Target): string {
  if (t.kind === 'all') return 'all';
  if (t.kind === 'pool') return `pool=${t.pool}`;
  if (t.kind === 'devices') return `devices=${t.devices.join(',')}`;
  return `label:${Object.entries(t.labels).map(([k, v]) => `${k}=${v}`).join(',')}`;
}

export function selectDevices(t: Target, known: TargetDevice[]): string[] {
  if (t.kind === 'devices') {
    const names = new Set(known.map((d) => d.device));
    const unknown = t.devices.filter((d) => !names.has(d));
    if (unknown.length) throw new ReasondError('invalid_request', `unknown devices: ${unknown.join(', ')}`);
    return [...new Set(t.devices)].sort();
  }
  return known
    .filter((d) => t.kind === 'all' || (t.kind === 'pool' ? d.pool === t.pool : Object.entries(t.labels).every(([k, v]) => d.labels[k] === v)))
    .map((d) => d.device)
    .sort();
}

/** `25,50,100` → [25, 50, 100]; strictly rising, 1-100, ending at 100. */
export function parseWaves(text: string | number[]): number[] {
  const waves = Array.isArray(text) ? text : String(text).split(',').map((s) => Number(s.trim().replace(/%$/, '')));
  const ok = waves.length > 0 && waves.every((w, i) => Number.isFinite(w) && w > 0 && w <= 100 && (i === 0 || w > waves[i - 1])) && waves[waves.length - 1] === 100;
  if (!ok) throw new ReasondError('invalid_request', `waves must be rising percentages ending at 100 (25,50,100); got ${JSON.stringify(text)}`);
  return waves;
}

/** `10%` or `10` → 10. */
export function parsePercent(v: unknown, what: string): number {
  const n = typeof v === 'number' ? v : Number(String(v).trim().replace(/%$/, ''));
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new ReasondError('invalid_request', `${what} must be a percentage from 0 to 100; got ${JSON.stringify(v)}`);
  return n;
}

export function planWaves(devices: string[], canary: number, waves: number[]): string[][] {
  if (!Number.isInteger(canary) || canary < 0) throw new ReasondError('invalid_request', `canary must be a whole number of devices; got ${canary}`);
  const out: string[][] = [];
  let taken = Math.min(canary, devices.length);
  if (taken > 0) out.push(devices.slice(0, taken));
  for (const w of waves) {
    const upTo = Math.min(devices.length, Math.max(Math.ceil((w / 100) * devices.length), taken + 1));
    if (upTo > taken) out.push(devices.slice(taken, upTo));
    taken = upTo;
  }
  return out;
}
