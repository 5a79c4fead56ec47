/**
 * The one config loader (#19), used by the agent, the controller and the client
 * commands: CLI flag > environment > config file > default. Per-key checks and
 * the feature's cross-key checks run in one pass, and every problem is reported
 * together as `<where>: <what is wrong, with the value>`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describeError, ReasondError } from '../core/errors.js';
import { defaultOf, envName, flagName, type ConfigKey, type ConfigOf, type CrossCheck } from './keys.js';

export interface ConfigSources {
  /** Parsed flags, keyed by flag name (--device-id → 'device-id'). */
  cli?: Record<string, unknown>;
  env?: Record<string, string | undefined>;
}

export interface LoadOptions<C> {
  /** Read when the `config` key names no file and this one exists; the list must then hold a `config` key. */
  defaultFile?: string;
  /**
   * Keys in the file that are not in the list: the agent reports them; the controller
   * ignores them, because the shipped units hand both daemons /etc/reasond/config.json.
   */
  unknownFileKeys?: 'report' | 'ignore';
  checks?: readonly CrossCheck<C>[];
}

export class ConfigError extends ReasondError {
  constructor(readonly problems: string[]) {
    super('invalid_config', problems.join('\n'));
  }
}

function check(k: ConfigKey, raw: unknown, where: string, problems: string[]): unknown {
  let v = raw;
  if (k.type === 'json') {
    // a flag or an environment variable carries JSON text; the file, the value itself
    if (typeof v === 'string') {
      try {
        v = JSON.parse(v);
      } catch (e) {
        return void problems.push(`${where}: must be JSON; ${describeError(e)}`);
      }
    }
    return k.parse ? k.parse(v, where, problems) : v;
  }
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

function readFile(path: string, keys: readonly ConfigKey[], unknown: 'report' | 'ignore', problems: string[]): Record<string, unknown> {
  try {
    const json = JSON.parse(readFileSync(path, 'utf8'));
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('the file must hold one JSON object');
    for (const key of Object.keys(json)) {
      if (key === 'config' || (unknown === 'report' && !keys.some((k) => k.key === key))) problems.push(`${path}: ${key}: unknown key (value ${JSON.stringify(json[key])})`);
    }
    return json;
  } catch (e) {
    problems.push(`${path}: cannot read the config file: ${describeError(e)}`);
    return {};
  }
}

export function loadKeys<const Keys extends readonly ConfigKey[]>(keys: Keys, sources: ConfigSources = {}, o: LoadOptions<ConfigOf<Keys>> = {}): ConfigOf<Keys> {
  const cli = sources.cli ?? {};
  const env = sources.env ?? {};
  const problems: string[] = [];
  const given = (k: ConfigKey): [unknown, string] | undefined => {
    if (cli[flagName(k.key)] !== undefined) return [cli[flagName(k.key)], `--${flagName(k.key)}`];
    if (env[envName(k.key)] !== undefined && env[envName(k.key)] !== '') return [env[envName(k.key)], envName(k.key)];
    return undefined;
  };
  const configKey = keys.find((k) => k.key === 'config');
  const explicit = configKey && given(configKey);
  const path = explicit ? String(explicit[0]) : o.defaultFile && existsSync(o.defaultFile) ? o.defaultFile : '';
  const file = path ? readFile(path, keys, o.unknownFileKeys ?? 'report', problems) : {};
  const out: Record<string, unknown> = configKey ? { config: path } : {};
  const bad = new Set<string>();
  for (const k of keys) {
    if (k.key === 'config') continue;
    const found = given(k) ?? (file[k.key] !== undefined ? [file[k.key], `${path}: ${k.key}`] : undefined);
    const before = problems.length;
    // a json key's default is JSON text, read like a given value
    out[k.key] = found ? check(k, found[0], found[1], problems) : k.type === 'json' ? check(k, defaultOf(k), `${k.key} (default)`, problems) : defaultOf(k);
    if (problems.length > before) bad.add(k.key);
  }
  const config = out as ConfigOf<Keys>;
  for (const c of o.checks ?? []) if (c.keys.every((k) => !bad.has(k))) problems.push(...c.check(config));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
