/** The one config schema: precedence, collected errors, help and README in sync with it. */
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { configTable, ConfigError, loadConfig, schema, yargsOptions } from '../../../src/agent/config.js';
import { repoRoot, tempDir } from '../../helpers/models.js';

const file = (json: object) => {
  const path = join(tempDir(), 'config.json');
  writeFileSync(path, JSON.stringify(json));
  return path;
};

test('defaults apply when nothing is given', (t) => {
  const c = loadConfig({ cli: {}, env: {} });
  t.is(c.device_id, hostname());
  t.is(c.pool, 'default');
  t.is(c.base_topic, 'reasond');
  t.is(c.broker, '');
  t.is(c.embedded_port, 1883);
  t.is(c.embedded_host, '127.0.0.1');
  t.is(c.grace_ms, 30000);
});

test('flag beats environment beats file beats default', (t) => {
  const config = file({ pool: 'from-file', device_id: 'from-file', queue_max: 3, base_topic: 'file-base' });
  const c = loadConfig({
    cli: { config, 'device-id': 'from-flag', 'embedded-port': '2000' },
    env: { REASOND_DEVICE_ID: 'from-env', REASOND_POOL: 'from-env', REASOND_EMBEDDED_PORT: '3000' },
  });
  t.is(c.device_id, 'from-flag');
  t.is(c.pool, 'from-env');
  t.is(c.embedded_port, 2000);
  t.is(c.queue_max, 3);
  t.is(c.base_topic, 'file-base');
  t.is(c.config, config);
});

test('every problem is reported at once as <where>: <what is wrong, with the value>', (t) => {
  const config = file({ queue_max: -1, colour: 'blue', grace_ms: 'soon' });
  const e = t.throws(() => loadConfig({ cli: { config, 'embedded-port': 'abc' }, env: { REASOND_MQTT_VERSION: '3', REASOND_PASSWORD: '' } }), { instanceOf: ConfigError })!;
  t.is(e.code, 'invalid_config');
  t.deepEqual(e.problems.sort(), [
    `${config}: colour: unknown key (value "blue")`,
    `${config}: grace_ms: must be an integer; got "soon"`,
    `${config}: queue_max: must be from 0 to 10000; got -1`,
    '--embedded-port: must be an integer; got "abc"',
    'REASOND_MQTT_VERSION: must be one of 4, 5; got "3"',
  ].sort());
});

test('a config file that cannot be read is named', (t) => {
  const e = t.throws(() => loadConfig({ cli: { config: '/nonexistent/reasond.json' } }), { instanceOf: ConfigError })!;
  t.regex(e.message, /^\/nonexistent\/reasond\.json: cannot read the config file/);
});

test('a secret is never echoed back in an error', (t) => {
  const e = t.throws(() => loadConfig({ cli: { config: file({ password: 1234 }) } }), { instanceOf: ConfigError })!;
  t.false(e.message.includes('1234'));
});

test('--help options and the README table come from the schema, every key', (t) => {
  const options = yargsOptions();
  for (const k of schema) {
    const o = options[k.key.replace(/_/g, '-')];
    t.truthy(o, k.key);
    t.true(String(o.describe).includes(`REASOND_${k.key.toUpperCase()}`));
    t.truthy(o.defaultDescription);
  }
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  t.true(readme.includes(configTable()), 'README.md is out of date with the config schema: run npm run readme:config');
});

test('names that become topic levels may not hold wildcards or slashes', (t) => {
  const e = t.throws(() => loadConfig({ cli: { 'device-id': 'pi/+', pool: '#' }, env: { REASOND_BASE_TOPIC: 'site//reasond' } }), { instanceOf: ConfigError })!;
  t.is(e.problems.length, 3);
  t.true(e.problems.some((p) => p.startsWith('--device-id: must be letters, digits') && p.endsWith('got "pi/+"')));
  t.true(e.problems.some((p) => p.startsWith('--pool:')));
  t.true(e.problems.some((p) => p.startsWith('REASOND_BASE_TOPIC:') && p.endsWith('got "site//reasond"')));
  t.is(loadConfig({ cli: { 'base-topic': 'site-3/reasond', 'device-id': 'pi-07.lab' }, env: {} }).base_topic, 'site-3/reasond');
});
