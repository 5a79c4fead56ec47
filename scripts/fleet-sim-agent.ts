/**
 * One simulated board for scripts/fleet-sim.ts (issue 7): the real agent
 * (src/agent's buildAgent, as `reasond start` builds it) in its own process,
 * reading a fixture sysfs tree, with two things a laptop cannot be:
 *  - board tools (`vcgencmd`, `nvpmodel`) answer from <sys_root>/.commands;
 *  - REASOND_SIM_FAIL_SMOKE=1 makes its probe report smoke_failed, as a board
 *    whose model outputs went wrong would (the package itself is fine, so the
 *    other boards pass: this is how the tests get "one agent fails its smoke check").
 * argv: the `reasond start` flags (--device-id=... --data-dir=...).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAgent } from '../src/agent/index.js';
import { loadConfig } from '../src/agent/config.js';
import { describeError } from '../src/core/errors.js';
import { PackageError } from '../src/package/errors.js';
import type { Prober } from '../src/update/probe.js';

const cli: Record<string, unknown> = {};
for (const arg of process.argv.slice(2)) {
  const m = /^--([^=]+)=(.*)$/.exec(arg);
  if (m) cli[m[1]] = m[2];
}
const config = loadConfig({ cli, env: process.env });
const log = (line: string) => process.stderr.write(`[${config.device_id}] ${line}\n`);
const failingProbe: Prober = async () => {
  throw new PackageError('smoke_failed', `fleet-sim: ${config.device_id} is configured to fail its smoke check`);
};
const agent = buildAgent(config, {
  log,
  probe: process.env.REASOND_SIM_FAIL_SMOKE === '1' ? failingProbe : undefined,
  commands: async (command, args) => {
    try {
      return readFileSync(join(config.sys_root, '.commands', [command, ...args].join('_')), 'utf8');
    } catch {
      return undefined;
    }
  },
});

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    void agent.stop().finally(() => process.exit(0));
  });
}
agent.start().then(
  () => process.stdout.write(`ready ${config.device_id}\n`),
  (e) => {
    log(`start failed: ${describeError(e)}`);
    process.exit(1);
  },
);
