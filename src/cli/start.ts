/**
 * `reasond start`: the agent daemon (issue 4). Options come from the one
 * config schema (src/config); SIGTERM/SIGINT stop it cleanly, a second
 * signal exits at once.
 */
import type { CommandModule } from 'yargs';
import { buildAgent, type Agent } from '../agent/index.js';
import { loadConfig, yargsOptions } from '../agent/config.js';
import { SdNotify } from '../service/sd-notify.js';
import { modelsDirOf } from './models-dir.js';
import { reportError } from './output.js';
import { resolveModel } from '../update/hub/pulled.js';

export const startCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'start',
  describe: 'Run the agent: answer reasoning tasks over MQTT (starts an embedded broker when no --broker is given)',
  builder: (y) => y.options(yargsOptions()),
  handler: async (a) => {
    let agent: Agent | undefined;
    // systemd Type=notify (issue 8): a no-op without NOTIFY_SOCKET.
    const notify = new SdNotify({ env: process.env, pid: process.pid, log: (l) => process.stderr.write(`[reasond] ${l}\n`) });
    try {
      const config = loadConfig({ cli: a, env: process.env });
      // model may name a repo pulled with `reasond model pull` (issue 20): the agent is handed its folder
      config.model = resolveModel(config.model, () => modelsDirOf(config));
      agent = buildAgent(config);
      const stopping = new Promise<string>((resolve) => {
        for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve(signal));
      });
      await agent.start();
      await notify.ready(agent.connected ? `serving as ${config.device_id}` : `serving as ${config.device_id}; waiting for the broker`);
      const signal = await stopping;
      await notify.stopping(`${signal}: stopping`);
      process.stderr.write(`[reasond] ${signal}: stopping (running tasks get up to ${config.grace_ms} ms)\n`);
      for (const s of ['SIGTERM', 'SIGINT'] as const) process.once(s, () => process.exit(130));
      await agent.stop();
      process.stderr.write('[reasond] stopped\n');
      process.exit(0);
    } catch (e) {
      reportError(e);
      await agent?.stop().catch(() => {});
      process.exit(process.exitCode ?? 1);
    }
  },
};
