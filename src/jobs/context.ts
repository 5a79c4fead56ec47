/**
 * From a job's input rows to what its prompt template sees (issue 18), and the
 * stated rule for inputs too large for the model: first per-topic summaries over
 * every row read (always given, never cut), then the rows themselves downsampled
 * evenly within each topic (its first and last kept) to `max_rows`, then halved
 * again while the rendered prompt does not fit the model's context, down to no rows
 * (summaries only). The run records which of these happened.
 */
/** An input row: its columns, a `value` (a number or null) and, when the data says, a `topic` to group by. */
export type InputRow = Record<string, unknown> & { value: number | null; topic?: string };

export interface InputData {
  kind: 'topics' | 'sql' | 'file';
  rows: InputRow[];
  /** sha256 of the rows read, before any reduction: two runs over the same data have the same hash. */
  hash: string;
  from?: number;
  to?: number;
}

export interface TopicSummary {
  topic: string;
  sensor: string;
  /** Over every row read of this topic. */
  count: number;
  min: number | null;
  max: number | null;
  /** One decimal, rounded half up. */
  mean: number | null;
  first: number | null;
  last: number | null;
  /** The rows given to the prompt: their values and their values as written. */
  values: number[];
  texts: string[];
}

const ALL = '(all)';
const groupOf = (r: InputRow) => r.topic ?? ALL;

/** Rows by topic, in first-seen order. */
function groups(rows: InputRow[]): Map<string, InputRow[]> {
  const m = new Map<string, InputRow[]>();
  for (const r of rows) {
    const k = groupOf(r);
    const g = m.get(k);
    if (g) g.push(r);
    else m.set(k, [r]);
  }
  return m;
}

/** `n` of `rows`, each topic keeping its share (at least one row each while n allows), evenly spaced with its first and last. */
export function downsample(rows: InputRow[], n: number): InputRow[] {
  if (n >= rows.length) return rows;
  if (n <= 0) return [];
  const g = [...groups(rows).values()];
  const keep = new Set<InputRow>();
  g.forEach((list, i) => {
    const share = Math.max(i < n ? 1 : 0, Math.floor((n * list.length) / rows.length));
    if (share === 0) return;
    if (share === 1) return void keep.add(list[list.length - 1]);
    for (let k = 0; k < share; k++) keep.add(list[Math.round((k * (list.length - 1)) / (share - 1))]);
  });
  return rows.filter((r) => keep.has(r));
}

const round1 = (x: number) => Math.floor(x * 10 + 0.5 + 1e-9) / 10;

export function summaries(all: InputRow[], used: InputRow[]): TopicSummary[] {
  const usedBy = groups(used);
  return [...groups(all).entries()].map(([topic, list]) => {
    const nums = list.map((r) => r.value).filter((v): v is number => v !== null);
    const u = usedBy.get(topic) ?? [];
    return {
      topic,
      sensor: typeof list[0].sensor === 'string' ? list[0].sensor : topic,
      count: list.length,
      min: nums.length ? Math.min(...nums) : null,
      max: nums.length ? Math.max(...nums) : null,
      mean: nums.length ? round1(nums.reduce((a, b) => a + b, 0) / nums.length) : null,
      first: nums.length ? nums[0] : null,
      last: nums.length ? nums[nums.length - 1] : null,
      values: u.map((r) => r.value).filter((v): v is number => v !== null),
      texts: u.filter((r) => r.value !== null).map((r) => String(r.text ?? r.value)),
    };
  });
}

export interface Reduction {
  used: InputRow[];
  /** `none`, or what was done, in words. */
  text: string;
  /** The max_rows cut's words, before any halving to fit the context. */
  base?: string;
}

/** The first cut: max_rows. */
export function capRows(rows: InputRow[], maxRows: number): Reduction {
  if (rows.length <= maxRows) return { used: rows, text: 'none' };
  const text = `downsampled ${rows.length} rows to ${maxRows} (max_rows; evenly within each topic, first and last kept)`;
  return { used: downsample(rows, maxRows), text, base: text };
}

/** The next cut when the prompt did not fit: half the rows, or none (summaries only). */
export function halve(rows: InputRow[], r: Reduction): Reduction {
  const n = Math.floor(r.used.length / 2);
  const base = r.base ?? `${rows.length} rows`;
  const fit = n === 0 ? 'then no rows (per-topic summaries only)' : `then halved to ${n} row${n === 1 ? '' : 's'} (evenly within each topic)`;
  return { used: downsample(rows, n), text: `${base}; ${fit}, to fit the model's context`, base };
}

export interface ContextInfo {
  job: string;
  now: number;
  clock: (at: number) => string;
  window_s?: number;
}

/** 900 → "15m", 3600 → "1h": a window as a job's config writes it. */
export const windowText = (s: number) => (s % 86400 === 0 ? `${s / 86400}d` : s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`);

/** What the prompt template sees: docs/jobs.md lists every name. */
export function templateContext(info: ContextInfo, data: InputData, r: Reduction): Record<string, unknown> {
  const topics = summaries(data.rows, r.used);
  const used = r.used.map(({ at: _at, ...row }) => row);
  return {
    job: info.job,
    now: new Date(info.now).toISOString(),
    clock: info.clock(info.now),
    window: info.window_s === undefined ? undefined : windowText(info.window_s),
    rows: used,
    count: data.rows.length,
    values: r.used.map((x) => x.value).filter((v): v is number => v !== null),
    texts: r.used.filter((x) => x.value !== null).map((x) => String(x.text ?? x.value)),
    topics,
    summary: Object.fromEntries(topics.map((t) => [t.sensor, t])),
    reduced: r.text !== 'none',
    reduction: r.text,
  };
}
