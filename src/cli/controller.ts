/**
 * `reasond controller` (issue 7): the site's fleet controller. Settings come
 * from src/fleet/config.ts (flags > REASOND_<KEY> > config file > defaults); SIGTERM and
 * SIGINT stop it cleanly. Rollouts live in its database, so a restart
 * continues them.
 */
import type { CommandModule } from 'yargs';
import { controllerOptions, loadControllerConfig } from '../fleet/config.js';
import { buildController, type Controller } from '../fleet/controller.js';
import { cronScheduler } from '../core/cron.js';
import { SdNotify } from '../service/sd-notify.js';
import { reportError } from './output.js';

export const controllerCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'controller',
  describe: 'Run the fleet controller: device registry, metrics history, package server, rollouts, dashboard',
  builder: (y) => y.options(controllerOptions()),
  handler: async (a) => {
    let controller: Controller | undefined;
    // reasond-controller.service is Type=notify (issue 8): a no-op without NOTIFY_SOCKET.
    const notify = new SdNotify({ env: process.env, pid: process.pid, log: (l) => process.stderr.write(`[controller] ${l}\n`) });
    try {
      const config = loadControllerConfig(a, process.env);
      controller = buildController(config, { scheduler: cronScheduler() });
      const stopping = new Promise<string>((resolve) => {
        for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve(signal));
      });
      await controller.start();
      await notify.ready('controller serving');
      const signal = await stopping;
      await notify.stopping(`${signal}: stopping`);
      process.stderr.write(`[controller] ${signal}: stopping\n`);
      for (const s of ['SIGTERM', 'SIGINT'] as const) process.once(s, () => process.exit(130));
      await controller.stop();
      process.exit(0);
    } catch (e) {
      reportError(e);
      await controller?.stop().catch(() => {});
      process.exit(process.exitCode ?? 1);
    }
  },
};
