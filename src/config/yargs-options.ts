/** yargs options generated from the schema, so --help always matches it. */
import type { Options } from 'yargs';
import { envName, flagName, schema } from './schema.js';

export function yargsOptions(): Record<string, Options> {
  const out: Record<string, Options> = {};
  for (const k of schema) {
    const shown = k.defaultText ?? (k.secret ? 'none' : JSON.stringify(typeof k.default === 'function' ? k.default() : k.default));
    // No yargs default: an absent flag must stay undefined so env and file can fill it.
    // Integers get no yargs type: yargs would turn "abc" into NaN, and our check names the text.
    const range = k.type !== 'integer' ? '' : k.choices ? ` (${k.choices.join(' or ')})` : ` (integer, ${k.min} to ${k.max})`;
    out[flagName(k.key)] = {
      ...(k.type === 'integer' ? {} : { type: k.type }),
      describe: `${k.description}${range} [env ${envName(k.key)}]`,
      defaultDescription: shown,
      group: 'Agent options (flag > env > config file > default):',
    };
  }
  return out;
}
