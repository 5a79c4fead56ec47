/**
 * Runs the doctor's table of checks in order (later checks may read earlier
 * results) and prints each row as soon as it is known, so a crash inside
 * onnxruntime ("Illegal instruction") still leaves the rows before it on screen.
 * Exit code: 0 when the board can serve (warnings allowed), 1 when any check fails.
 */
import { describeError } from '../../core/errors.js';
import { clockCheck, cpuCheck, diskCheck, memoryCheck, nodeCheck, sensorsCheck } from './checks-host.js';
import { packageCheck } from './checks-package.js';
import { brokerCheck, modelCheck, onnxCheck } from './checks-runtime.js';
import { jobsCheck } from './checks-jobs.js';
import type { Check, CheckResult, DoctorContext } from './types.js';

export type { Check, CheckResult, DoctorContext, Verdict } from './types.js';

export const doctorChecks: readonly Check[] = [
  nodeCheck, cpuCheck, clockCheck, modelCheck, packageCheck, onnxCheck, memoryCheck, brokerCheck, sensorsCheck, diskCheck, jobsCheck,
];

export interface DoctorRow extends CheckResult {
  name: string;
}

export async function runDoctor(ctx: DoctorContext, onRow: (row: DoctorRow) => void, checks = doctorChecks): Promise<{ rows: DoctorRow[]; exitCode: number }> {
  const earlier = new Map<string, CheckResult>();
  const rows: DoctorRow[] = [];
  for (const c of checks) {
    let r: CheckResult;
    try {
      r = await c.check(ctx, earlier);
    } catch (e) {
      r = { status: 'fail', detail: `the check itself failed: ${describeError(e)}` };
    }
    const row: DoctorRow = { name: c.name, ...r, ...(r.status !== 'ok' ? { fix: r.fix ?? c.fix } : {}) };
    delete row.data;
    earlier.set(c.name, r);
    rows.push(row);
    onRow(row);
  }
  return { rows, exitCode: rows.some((r) => r.status === 'fail') ? 1 : 0 };
}

export function formatRow(r: DoctorRow): string {
  const line = `${r.status.padEnd(4)}  ${r.name.padEnd(11)}  ${r.detail}`;
  return r.fix ? `${line}\n${' '.repeat(19)}fix: ${r.fix}` : line;
}
