/**
 * A unix datagram socket standing in for systemd's notify socket (issue 8).
 * Node cannot bind one, so a small python3 script listens and prints each
 * message as a JSON line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot, tempDir } from './models.js';

export interface NotifySocket {
  path: string;
  /** Messages in arrival order; systemd-notify's BARRIER=1 follow-ups are left out. */
  messages: string[];
  stop(): void;
}

export function listenNotify(): Promise<NotifySocket> {
  const path = join(tempDir('reasond-notify-'), 'notify.sock');
  const child: ChildProcess = spawn('python3', [join(repoRoot, 'test/helpers/notify-listener.py'), path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: string[] = [];
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`notify listener exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line);
      if (m.listening) resolve({ path, messages, stop: () => child.kill() });
      else if (m.message !== 'BARRIER=1') messages.push(m.message);
    });
  });
}
