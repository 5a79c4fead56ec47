/** A README table of a key list (a test keeps the README's agent table equal to it). */
import { envName, flagName, type ConfigKey } from './keys.js';

export function configTable(keys: readonly ConfigKey[]): string {
  const rows = keys.map((k) => {
    const def = k.defaultText ?? (k.default === '' ? 'empty' : `\`${String(k.default)}\``);
    const range = k.choices ? ` (${k.choices.join(' or ')})` : k.min !== undefined ? ` (${k.min} to ${k.max})` : '';
    return `| \`${k.key}\` | \`--${flagName(k.key)}\` | \`${envName(k.key)}\` | ${k.typeText ?? k.type}${range} | ${def} | ${k.description.replace(/\|/g, '\\|')} |`;
  });
  return ['| config key | flag | environment | type | default | meaning |', '|---|---|---|---|---|---|', ...rows].join('\n');
}
