/** The README's table of `reasond start` options, generated from the schema (a test keeps them equal). */
import { envName, flagName, schema } from './schema.js';

export function configTable(): string {
  const rows = schema.map((k) => {
    const def = k.defaultText ?? (k.default === '' ? 'empty' : `\`${String(k.default)}\``);
    const range = k.choices ? ` (${k.choices.join(' or ')})` : k.min !== undefined ? ` (${k.min} to ${k.max})` : '';
    return `| \`${k.key}\` | \`--${flagName(k.key)}\` | \`${envName(k.key)}\` | ${k.type}${range} | ${def} | ${k.description.replace(/\|/g, '\\|')} |`;
  });
  return ['| config key | flag | environment | type | default | meaning |', '|---|---|---|---|---|---|', ...rows].join('\n');
}
