/** yargs options generated from a key list, so --help always matches it. */
import type { Options } from 'yargs';
import { defaultOf, envName, flagName, type ConfigKey } from './keys.js';

export function yargsOptions(keys: readonly ConfigKey[], group: string): Record<string, Options> {
  const out: Record<string, Options> = {};
  for (const k of keys) {
    const shown = k.defaultText ?? (k.secret ? 'none' : JSON.stringify(defaultOf(k)));
    // No yargs default: an absent flag must stay undefined so env and file can fill it.
    // Integers get no yargs type: yargs would turn "abc" into NaN, and our check names the text.
    const range = k.type !== 'integer' ? '' : k.choices ? ` (${k.choices.join(' or ')})` : ` (integer, ${k.min} to ${k.max})`;
    out[flagName(k.key)] = {
      ...(k.type === 'integer' ? {} : { type: k.type === 'json' ? 'string' : k.type }),
      describe: `${k.description}${range} [env ${envName(k.key)}]`,
      defaultDescription: shown,
      group,
    };
  }
  return out;
}
