/**
 * `reasond doctor` (issue 8): checks whether this board can serve, with the
 * agent's own config (same flags, environment and file as `reasond start`),
 * and says how to fix what is wrong. Exit 1 when any check fails.
 */
import type { CommandModule } from 'yargs';
import { loadConfig, yargsOptions } from '../agent/config.js';
import { formatRow, runDoctor } from '../service/doctor/index.js';
import { machineContext } from '../service/doctor/context.js';
import { reportError } from './output.js';

export const doctorCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'doctor',
  describe: 'Check this board: Node, CPU, onnxruntime, model, memory, broker, sensors, disk, clock; each problem with its fix',
  builder: (y) => y.options({ ...yargsOptions(), json: { type: 'boolean', describe: 'One JSON object with every row' } }),
  handler: async (a) => {
    try {
      const { json, ...flags } = a;
      const config = loadConfig({ cli: flags, env: process.env });
      const { rows, exitCode } = await runDoctor(machineContext(config), (row) => {
        if (!json) process.stdout.write(`${formatRow(row)}\n`);
      });
      if (json) process.stdout.write(`${JSON.stringify({ ok: exitCode === 0, checks: rows }, null, 2)}\n`);
      else process.stdout.write(exitCode === 0 ? 'This board can serve.\n' : 'This board cannot serve until the failures above are fixed.\n');
      process.exit(exitCode);
    } catch (e) {
      reportError(e);
      process.exit(2); // 2: nothing was checked (the config is invalid), apart from 1: the board cannot serve
    }
  },
};
