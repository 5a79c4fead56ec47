/**
 * The agent's models folder as the commands outside `reasond start` find it (flag > env > config
 * file > default, like the agent: `models_dir`, else `<data_dir>/models`), and `--model` read as a
 * folder or as the repo id of a model `reasond model pull` put there (issue 20).
 */
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { loadConfig } from '../agent/config.js';
import { resolveModel } from '../update/hub/pulled.js';

type Args = Record<string, any>;

export const modelsDirOf = (c: { models_dir: string; data_dir: string }): string => c.models_dir || join(c.data_dir, 'models');

/** Read only when asked: a command given a folder never reads the agent's config. */
export const modelsDirFromArgs = (a: Args) => (): string =>
  modelsDirOf(loadConfig({ cli: { 'data-dir': a['data-dir'], 'models-dir': a['models-dir'], config: a.config }, env: process.env }));

export const modelsDirOptions = (y: Argv) =>
  y
    .option('models-dir', { type: 'string', describe: "The agent's models folder (installed packages and pulled models)", defaultDescription: '<data_dir>/models' })
    .option('data-dir', { type: 'string', describe: "The agent's data folder (as for reasond start)" })
    .option('config', { type: 'string', describe: "The agent's config file" });

/** `--model`: a model folder, or `owner/name` pulled with `reasond model pull`. */
export const modelArg = (model: string, a: Args): string => resolveModel(model, modelsDirFromArgs(a));
