/**
 * The one file that imports cli-progress (STYLE.md rule 1): a bar on stderr when it is a terminal,
 * nothing otherwise (a log file or a pipe gets the command's own summary lines instead).
 */
import cliProgress from 'cli-progress';

export interface Bar {
  update(value: number, payload?: Record<string, unknown>): void;
  stop(): void;
}

/** `format` uses cli-progress' tokens: {bar}, {value}, {total}, {percentage}, {eta_formatted} and the payload's keys. */
export function progressBar(format: string, total: number, start = 0, payload: Record<string, unknown> = {}, enabled = process.stderr.isTTY): Bar | undefined {
  if (!enabled) return undefined;
  const bar = new cliProgress.SingleBar({ format, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
  bar.start(total, start, payload);
  return bar;
}

/** Bytes as a person reads them: 1.2 MB, 433 MB, 1.1 GB. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}
