#!/usr/bin/env node
/** reasond's command line: one file per command, dispatched here. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { agentVersion } from '../core/paths.js';
import { askCommand } from './ask.js';
import { benchCommand } from './bench.js';
import { controllerCommand } from './controller.js';
import { doctorCommand } from './doctor.js';
import { evalCommand } from './eval.js';
import { fleetCommand } from './fleet.js';
import { jobsCommand } from './jobs.js';
import { modelCommand } from './model.js';
import { runCommand } from './run.js';
import { startCommand } from './start.js';
import { statsCommand } from './stats.js';

// A reader that went away (`reasond fleet status | head`) ends the command quietly, as in any Unix tool.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

await yargs(hideBin(process.argv))
  .scriptName('reasond')
  .version(agentVersion)
  .command(runCommand)
  .command(evalCommand)
  .command(startCommand)
  .command(askCommand)
  .command(statsCommand)
  .command(jobsCommand)
  .command(modelCommand)
  .command(doctorCommand)
  .command(controllerCommand)
  .command(fleetCommand)
  .command(benchCommand)
  .demandCommand(1, 'Name a command; see reasond --help.')
  .strict()
  .wrap(Math.min(110, process.stdout.columns || 100))
  .parseAsync();
