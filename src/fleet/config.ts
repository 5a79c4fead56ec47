/**
 * `reasond controller`'s settings (issue 7): its keys, declared once (#19) with the
 * broker's and trusted_keys from the features that own them, read by the one config
 * loader: --flag > REASOND_<KEY> > the config file (--config) > default.
 */
import { configFileKey, loadKeys, yargsOptions, type ConfigKey, type ConfigOf, type ConfigSources } from '../config/index.js';
import { brokerKeys } from '../mqtt/index.js';
import { trustedKeysKey } from '../package/trusted-keys.js';

/** The file systemd's reasond-controller.service names; absent is fine. */
export const DEFAULT_CONTROLLER_CONFIG = '/etc/reasond/config.json';
const b = brokerKeys;

export const controllerKeys = [
  { ...configFileKey(DEFAULT_CONTROLLER_CONFIG), description: 'JSON file with the keys below (keys of the agent in the same file are left to it)' },
  { ...b.broker, description: 'The site broker the agents use' },
  { ...b.base_topic, description: 'First topic level, as the agents have it' },
  b.username,
  { ...b.password, description: 'Broker password' },
  { ...b.ca, description: 'CA certificate file for mqtts://' },
  { ...b.cert, description: 'Client certificate file (PEM) for brokers that require one (systemd/mosquitto example: CN reasond-controller)' },
  { ...b.key, description: 'Client private key file (PEM) for the certificate' },
  { key: 'data_dir', type: 'string', default: '/var/lib/reasond-controller', description: 'controller.db (registry, history, rollouts) and the package store' },
  { ...trustedKeysKey, description: 'Comma-separated Ed25519 public key files (.pub); uploads signed by any other key are refused' },
  { key: 'operator_keys', type: 'string', default: '', description: 'Comma-separated Ed25519 public keys (.pub) of the operators who may change the fleet (upload, rollout, abort, label); each request is signed (reasond fleet --operator-key); the file name is the name the history records' },
  { key: 'operator_auth', type: 'string', default: 'signed', choices: ['signed', 'off'], description: 'signed: fleet-changing requests without a valid operator signature are refused (unauthorized); off: they pass, recorded as unauthenticated (only where the broker\'s ACL already limits who may publish on the controller\'s request topics)' },
  { key: 'operator_clock_skew_s', type: 'integer', default: 300, min: 10, max: 86400, description: "How far a signed request's time stamp may be from the controller's clock, seconds" },
  { key: 'http_host', type: 'string', default: '127.0.0.1', description: 'Address the dashboard (and its JSON, the whole inventory) listens on: this machine only by default; 0.0.0.0 opens it to the LAN, with no authentication' },
  { key: 'http_port', type: 'integer', default: 8380, min: 0, max: 65535, description: 'Dashboard port; 0 = any free port (printed at start)' },
  { key: 'package_host', type: 'string', default: '0.0.0.0', description: 'Address the package server listens on' },
  { key: 'package_port', type: 'integer', default: 8381, min: 0, max: 65535, description: 'Package server port (GET/HEAD with Range); 0 = any free port' },
  { key: 'package_url', type: 'string', default: '', description: 'Package server URL as the agents reach it; empty = http://<host name>:<package_port>/' },
  { key: 'deploy_timeout_s', type: 'integer', default: 1800, min: 0, max: 604800, description: 'A device that has not answered its deploy this long after it was sent counts as failed in its wave, logged (0 = wait for ever)' },
  { key: 'reconcile_s', type: 'integer', default: 2, min: 1, max: 60, description: 'Seconds between rollout reconcile passes (each device message also starts one); must divide a minute' },
  { key: 'history_raw_hours', type: 'integer', default: 24, min: 1, max: 8760, description: 'Metrics kept as received for this long, then as minute averages' },
  { key: 'history_days', type: 'integer', default: 30, min: 1, max: 3650, description: 'Minute averages kept this long' },
] as const satisfies readonly ConfigKey[];

export type ControllerConfig = ConfigOf<typeof controllerKeys>;

export function loadControllerConfig(cli: Record<string, unknown>, env: ConfigSources['env']): ControllerConfig {
  return loadKeys(controllerKeys, { cli, env }, {
    defaultFile: DEFAULT_CONTROLLER_CONFIG,
    unknownFileKeys: 'ignore',
    checks: [{ keys: ['reconcile_s'], check: (c) => (60 % c.reconcile_s === 0 ? [] : [`reconcile_s: must divide a minute (1, 2, 3, 5, 10, ...); got ${c.reconcile_s}`]) }],
  });
}

/** The durations the controller runs on, in milliseconds (the keys say hours and days, as operators think of them). */
export function controllerDurations(c: ControllerConfig) {
  return { reconcileMs: c.reconcile_s * 1000, historyRawMs: c.history_raw_hours * 3_600_000, historyKeepMs: c.history_days * 86_400_000 };
}

export const controllerOptions = () => yargsOptions(controllerKeys, 'Controller options (flag > env > config file > default):');
