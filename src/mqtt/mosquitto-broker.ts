/**
 * The embedded broker when Mosquitto is installed (issue 20): `reasond start` with no broker runs
 * it as a child, so MQTT 5 (Response Topic, Correlation Data, Message Expiry, real shared
 * subscriptions) works on the default path, as docs/API.md leads with. Its config is generated:
 * the embedded host and port only, persistence in the agent's data dir, TCP_NODELAY, no auth (as
 * the aedes broker). It runs under `sh` holding a pipe from the agent: when the agent goes, even by
 * SIGKILL, the pipe closes and the shell stops Mosquitto, so no orphan keeps the port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { delimiter, join } from 'node:path';
import { ReasondError } from '../core/errors.js';
import { listenError } from '../core/listen.js';

export interface MosquittoBrokerOptions {
  host: string;
  port: number;
  /** Its config, persistence file and log go in <dataDir>/mosquitto. */
  dataDir: string;
  binary: string;
  log?: (line: string) => void;
}

/** The mosquitto binary on PATH, or in /usr/sbin where Debian puts it (not on a user's PATH); undefined if none. */
export function findMosquitto(path = process.env.PATH ?? ''): string | undefined {
  for (const dir of [...path.split(delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin']) {
    const candidate = join(dir, 'mosquitto');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Which embedded broker an `embedded_broker` setting gives (issue 20): the agent builds it, doctor
 * reports it. `missing`: auto found no Mosquitto and falls back to aedes, MQTT 3.1.1 only.
 */
export type EmbeddedChoice = { kind: 'mosquitto'; binary: string } | { kind: 'aedes'; missing: boolean };

export function chooseEmbeddedBroker(setting: string, find: () => string | undefined = findMosquitto): EmbeddedChoice {
  const binary = setting === 'aedes' ? undefined : find();
  if (binary) return { kind: 'mosquitto', binary };
  if (setting === 'mosquitto') throw new ReasondError('invalid_config', 'embedded_broker is mosquitto, but no mosquitto is installed (not on PATH nor in /usr/sbin): apt-get install mosquitto, or set embedded_broker to auto or aedes');
  return { kind: 'aedes', missing: setting === 'auto' };
}

// $1 the binary, $2 the config; the agent holds stdin: EOF (its exit, whatever the signal) stops mosquitto
// (fd 3: a background job's own stdin is /dev/null in a non-interactive shell)
const GUARD = 'exec 3<&0; "$1" -c "$2" </dev/null & pid=$!; (while read -r _ <&3; do :; done; kill "$pid" 2>/dev/null) & wait "$pid"';

const connects = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = new Socket().once('connect', () => (s.destroy(), resolve(true))).once('error', () => resolve(false));
    s.connect(port, host === '0.0.0.0' ? '127.0.0.1' : host);
  });

export class MosquittoBroker {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;

  constructor(private readonly options: MosquittoBrokerOptions) {}

  get url(): string {
    return `mqtt://${this.options.host}:${this.options.port}`;
  }

  async start(): Promise<void> {
    const o = this.options;
    // first: a port another server holds would otherwise answer the readiness probe below
    await new Promise<void>((resolve, reject) => {
      const probe = createServer().once('error', (e: NodeJS.ErrnoException) => reject(listenError(e, 'the embedded broker', o.host, o.port, '--embedded-port (embedded_port)',
        ` (is a broker already running there? then use it with --broker mqtt://${o.host}:${o.port})`)));
      probe.listen(o.port, o.host, () => probe.close(() => resolve()));
    });
    const dir = join(o.dataDir, 'mosquitto');
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, [
      '# Written by reasond at each start (its embedded broker); edits are overwritten.',
      `listener ${o.port} ${o.host}`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      'set_tcp_nodelay true',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'));
    const child = spawn('sh', ['-c', GUARD, 'sh', o.binary, conf], { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (b) => {
      stderr = (stderr + b).slice(-4000);
      for (const line of String(b).split('\n').filter(Boolean)) o.log?.(`mosquitto: ${line.replace(/^\d+: /, '')}`);
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let gone: number | null | undefined;
    void this.exited.then((code) => (gone = code));
    for (let waited = 0; ; waited += 50) {
      if (gone !== undefined) {
        this.child = undefined;
        if (/address already in use/i.test(stderr)) {
          throw listenError(Object.assign(new Error(stderr), { code: 'EADDRINUSE' }), 'the embedded broker', o.host, o.port, '--embedded-port (embedded_port)',
            ` (is a broker already running there? then use it with --broker mqtt://${o.host}:${o.port})`);
        }
        throw new ReasondError('internal', `the embedded broker (${o.binary}) exited with code ${gone} before it listened: ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no output'}`);
      }
      if (await connects(o.host, o.port)) break;
      if (waited > 10_000) {
        await this.stop();
        throw new ReasondError('internal', `the embedded broker (${o.binary}) did not listen on ${o.host}:${o.port} within 10 s`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    o.log?.(`embedded MQTT broker (Mosquitto, MQTT 5 and 3.1.1) listening on ${this.url}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    child.stdin?.end();
    const done = await Promise.race([this.exited, new Promise<'late'>((r) => setTimeout(() => r('late'), 5000))]);
    if (done === 'late') child.kill('SIGKILL');
  }
}
