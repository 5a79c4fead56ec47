/** Terminal output helpers shared by the commands. */
import { describeError, isReasondError } from '../core/errors.js';

const colour = process.stdout.isTTY && !process.env.NO_COLOR;
export const dim = (s: string) => (colour ? `\x1b[2m${s}\x1b[22m` : s);
export const bold = (s: string) => (colour ? `\x1b[1m${s}\x1b[22m` : s);
export const isColour = colour;

/** Prints an error as `reasond: <code>: <message>` and sets a failing exit code. */
export function reportError(e: unknown): void {
  const code = isReasondError(e) ? e.code : 'internal';
  process.stderr.write(`reasond: ${code}: ${describeError(e)}\n`);
  process.exitCode = code === 'invalid_request' || code === 'context_overflow' ? 2 : code === 'broker_unreachable' || code === 'hub_unreachable' ? 4 : code === 'port_in_use' ? 5 : code === 'unauthorized' ? 6 : 1;
}
