/**
 * `reasond controller`'s settings (issue 7): one list, every key with a
 * description and a default, read from --flag > REASOND_<KEY> > the config
 * file (--config) > default. The README's table is this list.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describeError, ReasondError } from '../core/errors.js';

export interface ControllerKey {
  key: string;
  type: 'string' | 'integer';
  default: string | number;
  description: string;
  min?: number;
  max?: number;
}

export const controllerKeys: readonly ControllerKey[] = [
  { key: 'broker', type: 'string', default: 'mqtt://127.0.0.1:1883', description: 'The site broker the agents use' },
  { key: 'base_topic', type: 'string', default: 'reasond', description: 'First topic level, as the agents have it' },
  { key: 'username', type: 'string', default: '', description: 'Broker user name' },
  { key: 'password', type: 'string', default: '', description: 'Broker password' },
  { key: 'ca', type: 'string', default: '', description: 'CA certificate file for mqtts://' },
  { key: 'cert', type: 'string', default: '', description: 'Client certificate file (PEM) for brokers that require one (systemd/mosquitto example: CN reasond-controller)' },
  { key: 'key', type: 'string', default: '', description: 'Client private key file (PEM) for the certificate' },
  { key: 'data_dir', type: 'string', default: '/var/lib/reasond-controller', description: 'controller.db (registry, history, rollouts) and the package store' },
  { key: 'trusted_keys', type: 'string', default: '', description: 'Comma-separated Ed25519 public key files (.pub); uploads signed by any other key are refused' },
  { key: 'http_host', type: 'string', default: '0.0.0.0', description: 'Address the dashboard (and its JSON) listens on' },
  { key: 'http_port', type: 'integer', default: 8380, min: 0, max: 65535, description: 'Dashboard port; 0 = any free port (printed at start)' },
  { key: 'package_host', type: 'string', default: '0.0.0.0', description: 'Address the package server listens on' },
  { key: 'package_port', type: 'integer', default: 8381, min: 0, max: 65535, description: 'Package server port (GET/HEAD with Range); 0 = any free port' },
  { key: 'package_url', type: 'string', default: '', description: 'Package server URL as the agents reach it; empty = http://<host name>:<package_port>/' },
  { key: 'reconcile_s', type: 'integer', default: 2, min: 1, max: 60, description: 'Seconds between rollout reconcile passes (each device message also starts one); must divide a minute' },
  { key: 'history_raw_hours', type: 'integer', default: 24, min: 1, max: 8760, description: 'Metrics kept as received for this long, then as minute averages' },
  { key: 'history_days', type: 'integer', default: 30, min: 1, max: 3650, description: 'Minute averages kept this long' },
];

export interface ControllerConfig {
  broker: string;
  base_topic: string;
  username: string;
  password: string;
  ca: string;
  cert: string;
  key: string;
  data_dir: string;
  trusted_keys: string;
  http_host: string;
  http_port: number;
  package_host: string;
  package_port: number;
  package_url: string;
  reconcile_s: number;
  history_raw_hours: number;
  history_days: number;
}

export const flagOf = (key: string) => key.replace(/_/g, '-');
export const envOf = (key: string) => `REASOND_${key.toUpperCase()}`;

/** The file systemd's reasond-controller.service names; absent is fine. */
export const DEFAULT_CONTROLLER_CONFIG = '/etc/reasond/config.json';

/**
 * The config file's controller keys. The file may be the one the agent on the
 * same machine reads (the shipped unit passes /etc/reasond/config.json), so
 * keys that are not the controller's are the agent's business, not errors.
 */
function readConfigFile(path: string, given: boolean, problems: string[]): Record<string, unknown> {
  if (path === '' || (!given && !existsSync(path))) return {}; // '' = no file
  try {
    const json = JSON.parse(readFileSync(path, 'utf8'));
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('the file must hold one JSON object');
    return json;
  } catch (e) {
    problems.push(`${path}: cannot read the config file: ${describeError(e)}`);
    return {};
  }
}

export function loadControllerConfig(cli: Record<string, unknown>, env: Record<string, string | undefined>): ControllerConfig {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  const path = (cli.config as string | undefined) ?? env.REASOND_CONFIG ?? DEFAULT_CONTROLLER_CONFIG;
  const file = readConfigFile(path, cli.config !== undefined || env.REASOND_CONFIG !== undefined, problems);
  for (const k of controllerKeys) {
    const [raw, where] = cli[flagOf(k.key)] !== undefined ? [cli[flagOf(k.key)], `--${flagOf(k.key)}`]
      : env[envOf(k.key)] ? [env[envOf(k.key)], envOf(k.key)]
      : file[k.key] !== undefined && file[k.key] !== '' ? [file[k.key], `${path}: ${k.key}`] : [k.default, 'default'];
    let v = raw;
    if (k.type === 'integer') {
      v = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
      if (typeof v !== 'number' || !Number.isInteger(v) || (k.min !== undefined && v < k.min) || (k.max !== undefined && v > k.max)) {
        problems.push(`${where}: must be an integer from ${k.min} to ${k.max}; got ${JSON.stringify(raw)}`);
      }
    } else if (typeof v !== 'string') problems.push(`${where}: must be a string; got ${JSON.stringify(raw)}`);
    out[k.key] = v;
  }
  if (60 % (out.reconcile_s as number) !== 0) problems.push(`reconcile_s: must divide a minute (1, 2, 3, 5, 10, ...); got ${out.reconcile_s}`);
  if (problems.length) throw new ReasondError('invalid_config', problems.join('\n'));
  return out as unknown as ControllerConfig;
}
