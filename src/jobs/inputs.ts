/**
 * A job's input, read at each run (issue 18): a window of the readings table, a
 * read-only SQL query over the agent's database, or a CSV/JSONL file on disk. Every
 * kind comes out as rows with a `value` (a number or null) and, when the data says,
 * a `topic` to group by; bad data is an invalid_request error naming the place.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { ReasondError } from '../core/errors.js';
import { topicMatches } from '../protocol/index.js';
import type { Database } from '../store/index.js';
import { pick, readValue, type ReadingsStore } from './readings.js';
import type { JobInput } from './spec.js';
import type { InputData, InputRow } from './context.js';

export type { InputData, InputRow };

/** Rows a query or file may give at most; more is an error, not a silent cut. */
export const MAX_INPUT_ROWS = 100_000;
/** Largest input file read. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

export interface InputSources {
  readings: ReadingsStore;
  /** The read-only connection to the agent's database (sql inputs). */
  readonly: Database;
  now: () => number;
  /** Formats epoch ms as the job's wall clock, "H:MM". */
  clock: (at: number) => string;
}

const hashOf = (rows: unknown[]) => createHash('sha256').update(JSON.stringify(rows)).digest('hex');

export async function readInput(input: JobInput, s: InputSources): Promise<InputData> {
  if (input.kind === 'topics') {
    const to = s.now();
    const from = to - input.window_s * 1000;
    const readings = await s.readings.window(input.topics, from, to);
    const rows: InputRow[] = readings.map((r) => {
      // a job's own field is picked again from the payload kept with the reading
      const v = input.field && r.payload ? readValue(r.payload, input.field) : { value: r.value, text: r.text };
      return { topic: r.topic, sensor: sensorOf(input.topics, r.topic), value: v.value, text: v.text, time: new Date(r.at).toISOString(), clock: s.clock(r.at), at: r.at };
    });
    return { kind: 'topics', rows, hash: hashOf(readings.map((r) => [r.topic, r.at, r.payload ?? r.text])), from, to };
  }
  if (input.kind === 'sql') {
    let raw: Record<string, unknown>[];
    try {
      raw = await s.readonly.all(`SELECT * FROM (${input.sql}) LIMIT ${MAX_INPUT_ROWS + 1}`);
    } catch (e) {
      throw new ReasondError('invalid_request', `the job's SQL failed: ${(e as Error).message}`);
    }
    if (raw.length > MAX_INPUT_ROWS) throw new ReasondError('invalid_request', `the job's SQL returned more than ${MAX_INPUT_ROWS} rows; aggregate in the query`);
    const rows = raw.map((r) => withValue(r, undefined));
    return { kind: 'sql', rows, hash: hashOf(raw) };
  }
  let size: number;
  try {
    size = statSync(input.file).size;
  } catch (e) {
    throw new ReasondError('invalid_request', `the job's input file cannot be read: ${(e as Error).message}`);
  }
  if (size > MAX_FILE_BYTES) throw new ReasondError('invalid_request', `the job's input file ${input.file} is ${size} bytes; the limit is ${MAX_FILE_BYTES}`);
  const text = readFileSync(input.file, 'utf8');
  const raw = input.format === 'jsonl' ? parseJsonl(text, input.file) : parseCsv(text, input.file);
  if (raw.length > MAX_INPUT_ROWS) throw new ReasondError('invalid_request', `${input.file} has more than ${MAX_INPUT_ROWS} rows`);
  return { kind: 'file', rows: raw.map((r) => withValue(r, input.field)), hash: hashOf(raw) };
}

/** A reading's sensor name: the topic level the filter's first `+` stands for (site/+/temp), else the last level. */
export function sensorOf(filters: string[], topic: string): string {
  const levels = topic.split('/');
  for (const f of filters) {
    const at = f.split('/').indexOf('+');
    if (at >= 0 && topicMatches(f, topic)) return levels[at];
  }
  return levels[levels.length - 1];
}

/** A row with its `value`: the field `field` picks, else a numeric `value` column, else null. */
function withValue(r: Record<string, unknown>, field: string | undefined): InputRow {
  const v = field ? pick(r, field) : r.value;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null;
  const topic = typeof r.topic === 'string' ? r.topic : undefined;
  return { ...r, value: n, ...(n !== null && r.text === undefined ? { text: typeof v === 'string' ? v.trim() : String(n) } : {}), ...(topic ? { topic } : {}) };
}

export function parseJsonl(text: string, file: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new ReasondError('invalid_request', `${file} line ${i + 1} is not JSON (${(e as Error).message}): ${line.slice(0, 60)}`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ReasondError('invalid_request', `${file} line ${i + 1} is not a JSON object: ${line.slice(0, 60)}`);
    out.push(v as Record<string, unknown>);
  });
  return out;
}

/** RFC 4180 CSV with a header row: quoted fields, "" inside quotes, CRLF or LF. */
export function parseCsv(text: string, file: string): Record<string, unknown>[] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') record.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      if (record.length > 1 || record[0] !== '') records.push(record);
      (record = []), (field = ''), line++;
    } else field += c;
  }
  if (quoted) throw new ReasondError('invalid_request', `${file}: a quoted field opened before line ${line} is never closed`);
  if (field !== '' || record.length) {
    record.push(field);
    records.push(record);
  }
  if (records.length === 0) return [];
  const [head, ...body] = records;
  return body.map((r, i) => {
    if (r.length !== head.length) throw new ReasondError('invalid_request', `${file} row ${i + 2} has ${r.length} fields; the header has ${head.length}`);
    return Object.fromEntries(head.map((h, j) => [h.trim(), r[j]]));
  });
}
