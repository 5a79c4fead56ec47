/**
 * docs/API.md's message tables, generated from the schemas (#19): a field's type and
 * limits come from its schema keywords, its meaning from its `description`. A test
 * keeps docs/API.md equal to this (npm run docs:api rewrites it).
 */
import { agentActions } from './admin.js';
import { eventSchemas } from './events.js';
import { jobResultSchema } from './jobs.js';
import { metricsSchema } from './metrics.js';
import { deltaSchema, errorSchema, resultSchema } from './replies.js';
import { offlineStatusSchema, onlineStatusSchema } from './status.js';
import { taskSchema } from './task.js';

type Schema = Record<string, any>;

const code = (v: unknown) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;
const cell = (s: string) => s.replace(/\|/g, '\\|');

function typeOf(s: Schema): string {
  if ('const' in s) return code(s.const);
  if (s.enum) return s.enum.map(code).join(' \\| ');
  const t = Array.isArray(s.type) ? s.type.join(' \\| ') : s.type;
  if (t === 'array') return s.items?.type === 'object' ? 'array of objects' : `array of ${s.items?.type ?? 'values'}s`;
  return t ?? 'any';
}

function limitsOf(s: Schema): string {
  const out: string[] = [];
  const range = (lo: unknown, hi: unknown, unit = '') => (lo !== undefined && hi !== undefined ? `${lo}-${hi}${unit}` : lo !== undefined ? `at least ${lo}${unit}` : `at most ${hi}${unit}`);
  if (s.minLength === 1 && s.maxLength === undefined) out.push('non-empty');
  else if (s.minLength !== undefined || s.maxLength !== undefined) out.push(range(s.minLength, s.maxLength, ' characters'));
  if (s.pattern) out.push(`matches \`${s.pattern}\``);
  if (s.exclusiveMinimum !== undefined) out.push(`above ${s.exclusiveMinimum}${s.maximum !== undefined ? `, up to ${s.maximum}` : ''}`);
  else if (s.minimum !== undefined || s.maximum !== undefined) out.push(range(s.minimum, s.maximum));
  if (s.minItems !== undefined || s.maxItems !== undefined) out.push(range(s.minItems, s.maxItems, ' items'));
  return out.join('; ');
}

/** Rows for an object's fields, nested objects with listed fields flattened as `a.b`. */
function rows(s: Schema, prefix: string, withLimits: boolean): string[] {
  const required = new Set<string>(s.required ?? []);
  return Object.entries<Schema>(s.properties ?? {}).flatMap(([name, p]) => {
    const field = `${prefix}${name}`;
    if (p.type === 'object' && p.properties && !p.description) return rows(p, `${field}.`, withLimits);
    const need = required.has(name) ? 'required' : p.default !== undefined ? code(p.default) : '-';
    const cells = withLimits
      ? [code(field), typeOf(p), need, cell(limitsOf(p)), cell(p.description ?? '')]
      : [code(field), typeOf(p), required.has(name) ? 'always' : 'optional', cell(p.description ?? '')];
    return [`| ${cells.join(' | ')} |`];
  });
}

/** The table of one message. The task gets limits and defaults; replies say which fields are always there. */
export function messageTable(s: Schema, withLimits = false): string {
  const head = withLimits ? ['| field | type | default | limits | meaning |', '|---|---|---|---|---|'] : ['| field | type | present | meaning |', '|---|---|---|---|'];
  return [...head, ...rows(s, '', withLimits)].join('\n');
}

function eventsTable(): string {
  const lines = ['| `type` | fields | when |', '|---|---|---|'];
  for (const s of eventSchemas as readonly Schema[]) {
    const fields = Object.keys(s.properties).filter((k) => k !== 'type').map((k) => (s.required.includes(k) ? `\`${k}\`` : `\`${k}\`?`));
    lines.push(`| \`${s.properties.type.const}\` | ${fields.join(', ')} | ${cell(s.description)} |`);
  }
  return lines.join('\n');
}

function actionsTable(): string {
  const lines = ['| action | request fields | `data` in the response |', '|---|---|---|'];
  for (const [action, a] of Object.entries<{ request: Schema; reply: string }>(agentActions)) {
    const fields = ['`id`', ...Object.entries<Schema>(a.request).map(([k, p]) => `\`${k}\`${p.description ? ` (${p.description})` : ''}`)];
    lines.push(`| \`${action}\` | ${cell(fields.join(', '))} | ${cell(a.reply)} |`);
  }
  return lines.join('\n');
}

/** Every generated table, by the name of its marker in docs/API.md. */
export function apiTables(): Record<string, string> {
  return {
    task: messageTable(taskSchema, true),
    delta: messageTable(deltaSchema),
    result: messageTable(resultSchema),
    error: messageTable(errorSchema),
    'status-online': messageTable(onlineStatusSchema),
    'status-offline': messageTable(offlineStatusSchema),
    events: eventsTable(),
    'admin-actions': actionsTable(),
    metrics: messageTable(metricsSchema),
    'job-result': messageTable(jobResultSchema),
  };
}

const start = (name: string) => `<!-- api-table:${name} (generated from src/protocol by npm run docs:api) -->`;
const END = '<!-- api-table:end -->';

/** docs/API.md with every marked table replaced by its generated text; a missing marker is an error. */
export function withApiTables(doc: string): string {
  let out = doc;
  for (const [name, table] of Object.entries(apiTables())) {
    const from = out.indexOf(start(name));
    const to = out.indexOf(END, from);
    if (from < 0 || to < 0) throw new Error(`docs/API.md has no ${start(name)} … ${END} markers`);
    out = out.slice(0, from + start(name).length) + '\n' + table + '\n' + out.slice(to);
  }
  return out;
}
