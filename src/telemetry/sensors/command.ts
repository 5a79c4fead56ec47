/**
 * Board tools (`vcgencmd`, `nvpmodel`) are run through this small interface so
 * tests hand in canned answers and a laptop without the tool reports the reading
 * as absent.
 */
import { execFile } from 'node:child_process';

/** Runs a tool and gives its stdout, or undefined when the tool is missing or fails. */
export type CommandRunner = (command: string, args: string[]) => Promise<string | undefined>;

// vcgencmd talks to the VideoCore mailbox and can hang while the firmware is busy
const TIMEOUT_MS = 2000;

export const runCommand: CommandRunner = (command, args) =>
  new Promise((resolve) => {
    execFile(command, args, { timeout: TIMEOUT_MS, encoding: 'utf8' }, (error, stdout) => {
      resolve(error ? undefined : stdout);
    });
  });

/** A runner that knows no tool: for sys roots that are not the live machine. */
export const noCommands: CommandRunner = async () => undefined;
