/** `reasond controller` settings (issue 7): flag > environment > file > default, and every problem named. */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasCode } from '../../../src/core/errors.js';
import { loadControllerConfig } from '../../../src/fleet/config.js';
import { tempDir } from '../../helpers/models.js';

test('defaults, then the file, then the environment, then flags; agent keys in a shared file are left alone', (t) => {
  const file = join(tempDir('reasond-cfg-'), 'config.json');
  writeFileSync(file, JSON.stringify({ broker: 'mqtt://file:1883', http_port: 9000, reconcile_s: 5, device_id: 'pi-01', history_days: 7 }));
  t.like(loadControllerConfig({ config: '' }, {}), { broker: 'mqtt://127.0.0.1:1883', http_port: 8380, reconcile_s: 2, history_days: 30 });
  t.like(loadControllerConfig({ config: file }, {}), { broker: 'mqtt://file:1883', http_port: 9000, reconcile_s: 5, history_days: 7 });
  t.like(loadControllerConfig({ config: file }, { REASOND_HTTP_PORT: '9100' }), { http_port: 9100 });
  t.like(loadControllerConfig({ config: file, 'http-port': 9200 }, { REASOND_HTTP_PORT: '9100' }), { http_port: 9200 });
});

test('all problems together, each with where it came from and the value', (t) => {
  const e = t.throws(() => loadControllerConfig({ config: '', 'http-port': 70000 }, { REASOND_RECONCILE_S: '7' }));
  t.true(hasCode(e, 'invalid_config'));
  // one loader for agent and controller (#19): range errors read as the agent's always have
  t.is(e?.message, '--http-port: must be from 0 to 65535; got 70000\nreconcile_s: must divide a minute (1, 2, 3, 5, 10, ...); got 7');
  t.regex(t.throws(() => loadControllerConfig({ config: '/nonexistent/c.json' }, {}))?.message ?? '', /^\/nonexistent\/c\.json: cannot read the config file: /);
});
