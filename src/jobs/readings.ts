/**
 * The readings store (issue 18): every message on a job's site topics, recorded in
 * the agent's database as (topic, time, numeric value, value as written, raw payload
 * cut to a bound). Writes are batched: messages wait in memory at most FLUSH_MS (or
 * until FLUSH_ROWS wait) and go in as multi-row INSERTs in one transaction, which is
 * what keeps thousands of messages a second cheap on an SD card. Retention is by age
 * and by row count, oldest first.
 */
import type { Database } from '../store/index.js';
import { topicMatches } from '../protocol/index.js';

export interface Reading {
  topic: string;
  /** epoch ms */
  at: number;
  value: number | null;
  /** The value as the payload wrote it ("21.50"), or the picked field as text. */
  text: string | null;
  payload: string | null;
}

/** A topic filter and the JSON field its readings' value is picked from. */
export interface FieldRule {
  filter: string;
  field?: string;
}

const FLUSH_MS = 200;
const FLUSH_ROWS = 2000;
/** Rows per INSERT statement: 5 parameters each, under SQLite's 32766 parameter limit. */
const ROWS_PER_INSERT = 500;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** The value at a dotted path of a parsed JSON value ("data.temp", "sensors.0.value"). */
export function pick(json: unknown, path: string): unknown {
  let v = json;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** A payload's numeric value and its text: a plain number, a JSON field picked by `field`, or a JSON object's `value`. */
export function readValue(payload: string, field?: string): { value: number | null; text: string | null } {
  const t = payload.trim();
  if (!field && NUMBER.test(t)) return { value: Number(t), text: t };
  let json: unknown;
  try {
    json = JSON.parse(t);
  } catch {
    return { value: null, text: null };
  }
  const v = field ? pick(json, field) : typeof json === 'number' ? json : pick(json, 'value');
  if (typeof v === 'number' && Number.isFinite(v)) return { value: v, text: String(v) };
  if (typeof v === 'string' && NUMBER.test(v.trim())) return { value: Number(v), text: v.trim() };
  if (typeof v === 'string' || typeof v === 'boolean') return { value: null, text: String(v) };
  return { value: null, text: null };
}

export interface ReadingsOptions {
  db: Database;
  rules: FieldRule[];
  payloadBytes: number;
  keepMs: number;
  maxRows: number;
  now: () => number;
  log: (line: string) => void;
}

export class ReadingsStore {
  private pending: Reading[] = [];
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  /** Readings written since the agent started (for the log and the bench). */
  written = 0;
  dropped = 0;

  constructor(private readonly o: ReadingsOptions) {}

  /** The filters the agent subscribes to. */
  get filters(): string[] {
    return [...new Set(this.o.rules.map((r) => r.filter))];
  }

  /** Whether a topic is one of the jobs' site topics. */
  wants(topic: string): boolean {
    return this.o.rules.some((r) => topicMatches(r.filter, topic));
  }

  /** Records one message (it waits in memory at most FLUSH_MS). */
  add(topic: string, payload: Buffer, at = this.o.now()): void {
    const text = payload.toString('utf8');
    const rule = this.o.rules.find((r) => r.field && topicMatches(r.filter, topic));
    const v = readValue(text, rule?.field);
    const bound = this.o.payloadBytes;
    this.pending.push({ topic, at, value: v.value, text: v.text, payload: bound === 0 ? null : payload.length <= bound ? text : payload.subarray(0, bound).toString('utf8') });
    if (this.pending.length >= FLUSH_ROWS) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Writes what waits; resolves when it is in the database. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing.then(() => this.write(batch));
    return this.flushing;
  }

  private async write(batch: Reading[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      await this.o.db.transaction(async () => {
        for (let i = 0; i < batch.length; i += ROWS_PER_INSERT) {
          const part = batch.slice(i, i + ROWS_PER_INSERT);
          const params: unknown[] = [];
          for (const r of part) params.push(r.topic, r.at, r.value, r.text, r.payload);
          await this.o.db.run(`INSERT INTO readings (topic, at, value, text, payload) VALUES ${part.map(() => '(?, ?, ?, ?, ?)').join(', ')}`, params);
        }
      });
      this.written += batch.length;
    } catch (e) {
      this.dropped += batch.length;
      this.o.log(`readings: ${batch.length} reading(s) not recorded: ${(e as Error).message}`);
    }
  }

  /** Forgets readings older than keepMs and the oldest beyond maxRows; returns how many went. */
  async prune(): Promise<number> {
    const db = this.o.db;
    const byAge = await db.run('DELETE FROM readings WHERE at < ?', [this.o.now() - this.o.keepMs]);
    const last = await db.get<{ id: number }>('SELECT id FROM readings ORDER BY id DESC LIMIT 1 OFFSET ?', [this.o.maxRows]);
    const byCount = last ? await db.run('DELETE FROM readings WHERE id <= ?', [last.id]) : { changes: 0 };
    return byAge.changes + byCount.changes;
  }

  /** Readings of topics matching any filter, from `from` (exclusive) to `to` (inclusive), oldest first. */
  async window(filters: string[], from: number, to: number): Promise<Reading[]> {
    await this.flush();
    const out: (Reading & { id: number })[] = [];
    for (const f of filters) {
      // the literal levels before the first wildcard narrow the index range; topicMatches decides
      const prefix = f.split('/').findIndex((l) => l === '+' || l === '#');
      const lit = prefix < 0 ? f : prefix === 0 ? '' : f.split('/').slice(0, prefix).join('/') + '/';
      const rows = prefix < 0
        ? await this.o.db.all<Reading & { id: number }>('SELECT id, topic, at, value, text, payload FROM readings WHERE topic = ? AND at > ? AND at <= ? ORDER BY at, id', [lit, from, to])
        : await this.o.db.all<Reading & { id: number }>("SELECT id, topic, at, value, text, payload FROM readings WHERE topic >= ? AND topic < ? AND at > ? AND at <= ? ORDER BY at, id", [lit, lit + '\uffff', from, to]);
      out.push(...rows.filter((r) => topicMatches(f, r.topic)));
    }
    // a topic two filters match is read once
    const seen = new Set<number>();
    return out
      .filter((r) => (seen.has(r.id) ? false : (seen.add(r.id), true)))
      .sort((a, b) => a.at - b.at || a.id - b.id)
      .map(({ id: _, ...r }) => r);
  }

  stop(): Promise<void> {
    return this.flush();
  }
}
