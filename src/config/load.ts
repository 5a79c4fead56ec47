/**
 * Resolves the config: CLI flag > environment > config file > default.
 * Every problem is collected and reported together as
 * `<where>: <what is wrong, with the value>`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ReasondError } from '../core/errors.js';
import { DEFAULT_CONFIG_FILE, defaultOf, envName, flagName, schema, type AgentConfig, type ConfigKey } from './schema.js';

export interface ConfigSources {
  /** Parsed flags, keyed by flag name (--device-id → 'device-id'). */
  cli?: Record<string, unknown>;
  env?: Record<string, string | undefined>;
}

export class ConfigError extends ReasondError {
  constructor(readonly problems: string[]) {
    super('invalid_config', problems.join('\n'));
  }
}

function check(k: ConfigKey, raw: unknown, where: string, problems: string[]): unknown {
  let v = raw;
  // Environment variables (and yargs strings) arrive as text: read them as the key's type.
  if (typeof v === 'string' && k.type === 'integer' && /^-?\d+$/.test(v.trim())) v = Number(v);
  if (typeof v === 'string' && k.type === 'boolean' && /^(true|false|1|0)$/i.test(v)) v = /^(true|1)$/i.test(v);
  const shown = k.secret ? '(hidden)' : JSON.stringify(raw);
  if (k.type === 'integer' && (typeof v !== 'number' || !Number.isInteger(v))) return void problems.push(`${where}: must be an integer; got ${shown}`);
  if (k.type === 'boolean' && typeof v !== 'boolean') return void problems.push(`${where}: must be true or false; got ${shown}`);
  if (k.type === 'string' && typeof v !== 'string') return void problems.push(`${where}: must be a string; got ${shown}`);
  if (typeof v === 'number' && ((k.min !== undefined && v < k.min) || (k.max !== undefined && v > k.max))) {
    return void problems.push(`${where}: must be from ${k.min} to ${k.max}; got ${shown}`);
  }
  if (k.choices && !k.choices.includes(v as string | number)) return void problems.push(`${where}: must be one of ${k.choices.join(', ')}; got ${shown}`);
  if (k.pattern && typeof v === 'string' && !k.pattern.regex.test(v)) return void problems.push(`${where}: must be ${k.pattern.rule}; got ${shown}`);
  return v;
}

function readFile(path: string, problems: string[]): Record<string, unknown> {
  try {
    const json = JSON.parse(readFileSync(path, 'utf8'));
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('the file must hold one JSON object');
    for (const key of Object.keys(json)) {
      if (key === 'config' || !schema.some((k) => k.key === key)) problems.push(`${path}: ${key}: unknown key (value ${JSON.stringify(json[key])})`);
    }
    return json;
  } catch (e) {
    problems.push(`${path}: cannot read the config file: ${(e as Error).message}`);
    return {};
  }
}

export function loadConfig(sources: ConfigSources = {}): AgentConfig {
  const cli = sources.cli ?? {};
  const env = sources.env ?? {};
  const problems: string[] = [];
  const given = (k: ConfigKey): [unknown, string] | undefined => {
    if (cli[flagName(k.key)] !== undefined) return [cli[flagName(k.key)], `--${flagName(k.key)}`];
    if (env[envName(k.key)] !== undefined && env[envName(k.key)] !== '') return [env[envName(k.key)], envName(k.key)];
    return undefined;
  };
  const configKey = schema.find((k) => k.key === 'config')!;
  const explicit = given(configKey);
  const path = explicit ? String(explicit[0]) : existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : '';
  const file = path ? readFile(path, problems) : {};
  const out: Record<string, unknown> = { config: path };
  for (const k of schema) {
    if (k.key === 'config') continue;
    const found = given(k) ?? (file[k.key] !== undefined ? [file[k.key], `${path}: ${k.key}`] : undefined);
    out[k.key] = found ? check(k, found[0], found[1], problems) : defaultOf(k);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as unknown as AgentConfig;
}
