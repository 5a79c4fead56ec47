/**
 * The probe's child process (issue 6): loads a staged package with the
 * Engine and runs its smoke checks, then prints one JSON line and exits.
 * It runs apart from the agent so a model that crashes onnxruntime (a
 * native abort, an out-of-memory kill) takes down only this process.
 * argv: <package dir> <threads>
 */
import { resourceUsage } from 'node:process';
import { Engine, parseDtype } from '../engine/index.js';
import { describeError } from '../core/errors.js';
import { readManifest } from '../package/verify.js';

export interface ProbeReport {
  ok: boolean;
  reason?: 'probe_crashed' | 'smoke_failed' | 'too_slow' | 'too_big';
  message?: string;
  answers: { prompt: string; expect: string; answer: string }[];
  tokens_per_s?: number;
  rss_mb: number;
}

async function main(dir: string, threads: number): Promise<ProbeReport> {
  const m = await readManifest(dir);
  const answers: ProbeReport['answers'] = [];
  // maxRSS is KiB on Linux: the high-water mark, so a spike while loading counts
  const rssMb = () => Math.round(resourceUsage().maxRSS / 1024);
  const engine = new Engine({ model: dir, dtype: m.format === 'genai' ? undefined : parseDtype(m.dtype), threads });
  try {
    await engine.start();
  } catch (e) {
    return { ok: false, reason: 'probe_crashed', message: `the engine could not load ${m.name}@${m.version}: ${describeError(e)}`, answers, rss_mb: rssMb() };
  }
  let slowest: number | undefined;
  try {
    for (const p of m.smoke.prompts) {
      const r = await engine.generate({ prompt: p.prompt, max_new_tokens: p.max_new_tokens ?? 64, temperature: 0 });
      answers.push({ prompt: p.prompt, expect: p.expect, answer: r.answer });
      if (r.answer.trim() !== p.expect.trim()) {
        return { ok: false, reason: 'smoke_failed', message: `asked ${JSON.stringify(p.prompt)}, expected ${JSON.stringify(p.expect)}, got ${JSON.stringify(r.answer.trim())}`, answers, rss_mb: rssMb() };
      }
      slowest = Math.min(slowest ?? Infinity, r.timing.decode_tokens_per_s);
    }
  } finally {
    await engine.stop().catch(() => {});
  }
  const s = m.smoke;
  if (s.min_tokens_per_s > 0 && slowest !== undefined && slowest < s.min_tokens_per_s) {
    return { ok: false, reason: 'too_slow', message: `decoded ${slowest.toFixed(1)} tokens/s; the package needs ${s.min_tokens_per_s}`, answers, tokens_per_s: slowest, rss_mb: rssMb() };
  }
  if (s.max_rss_mb > 0 && rssMb() > s.max_rss_mb) {
    return { ok: false, reason: 'too_big', message: `the probe used ${rssMb()} MiB; the package allows ${s.max_rss_mb}`, answers, tokens_per_s: slowest, rss_mb: rssMb() };
  }
  return { ok: true, answers, tokens_per_s: slowest, rss_mb: rssMb() };
}

const [dir, threads] = process.argv.slice(2);
main(dir, Number(threads) || 0).then(
  (report) => {
    process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
  },
  (e) => {
    process.stdout.write(`${JSON.stringify({ ok: false, reason: 'probe_crashed', message: describeError(e), answers: [], rss_mb: 0 })}\n`, () => process.exit(0));
  },
);
