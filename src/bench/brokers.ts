/** Mosquitto for the mqtt suite (issue 9), as a child process on a free port, when installed. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const hasMosquitto = (): boolean => spawnSync('mosquitto', ['-h']).error === undefined;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const canConnect = (port: number) => new Promise<boolean>((resolve) => {
  const s = new Socket();
  s.once('connect', () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
  s.connect(port, '127.0.0.1');
});

export async function startMosquitto(): Promise<{ url: string; version: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const conf = join(mkdtempSync(join(tmpdir(), 'reasond-bench-mosquitto-')), 'mosquitto.conf');
  // set_tcp_nodelay as in systemd/mosquitto/reasond.conf: with Nagle on, every small PUBACK and reply
  // waits for a delayed ACK (~40 ms on loopback), which is the broker's setting, not reasond's cost.
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\n`);
  const child: ChildProcess = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'ignore'] });
  for (let i = 0; i < 100 && !(await canConnect(port)); i++) await sleep(50);
  const help = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' });
  const version = /mosquitto version (\S+)/.exec(help.stdout + help.stderr)?.[1] ?? 'unknown';
  return {
    url: `mqtt://127.0.0.1:${port}`,
    version,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
