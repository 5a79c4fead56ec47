/**
 * A simulated fleet (issue 7): N agent processes against one broker, each
 * with its own data dir, device id and board fixture (rpi5, jetson-orin-nano,
 * x86 in turn). The integration tests import SimFleet; people run it:
 *
 *   npx tsx scripts/fleet-sim.ts --agents 6 --broker mqtt://127.0.0.1:1883 \
 *     --model <package dir> --trusted-keys operator.pub [--fail-smoke pi-03] [--pool line-2]
 *
 * Ctrl-C stops every agent. Each agent is scripts/fleet-sim-agent.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const BOARDS = ['rpi5', 'jetson-orin-nano', 'x86'] as const;

export interface FleetOptions {
  agents: number;
  broker: string;
  /** The model folder every agent starts on (a signed package, so the status names its version). */
  model: string;
  trustedKeys: string;
  /** Device ids are `<prefix>-01`, `<prefix>-02`, ... */
  prefix?: string;
  pool?: string;
  /** Devices whose probe reports smoke_failed. */
  failSmoke?: string[];
  /** Where the agents' data dirs go (a new temp dir by default). */
  root?: string;
  /** Extra `reasond start` flags for every agent. */
  extra?: Record<string, string | number>;
  log?: (line: string) => void;
}

export interface SimAgent {
  device: string;
  dataDir: string;
  board: (typeof BOARDS)[number];
  child?: ChildProcess;
  output: string;
}

export class SimFleet {
  readonly agents: SimAgent[] = [];
  readonly root: string;

  constructor(private readonly o: FleetOptions) {
    this.root = o.root ?? mkdtempSync(join(tmpdir(), 'reasond-fleet-'));
  }

  async start(): Promise<void> {
    for (let i = 1; i <= this.o.agents; i++) {
      const device = `${this.o.prefix ?? 'pi'}-${String(i).padStart(2, '0')}`;
      const a: SimAgent = { device, dataDir: join(this.root, device), board: BOARDS[(i - 1) % BOARDS.length], output: '' };
      mkdirSync(a.dataDir, { recursive: true });
      this.agents.push(a);
    }
    await Promise.all(this.agents.map((a) => this.launch(a)));
  }

  agent(device: string): SimAgent {
    const a = this.agents.find((x) => x.device === device);
    if (!a) throw new Error(`no simulated agent ${device}`);
    return a;
  }

  /** Starts (or starts again, on the same data dir) one agent; resolves once it is serving. */
  launch(a: SimAgent): Promise<void> {
    const flags: Record<string, string | number> = {
      'device-id': a.device,
      'data-dir': a.dataDir,
      model: this.o.model,
      broker: this.o.broker,
      pool: this.o.pool ?? 'default',
      'sys-root': join(repo, 'test/fixtures/sys', a.board),
      'trusted-keys': this.o.trustedKeys,
      threads: 1,
      'reconnect-ms': 300,
      'metrics-interval': 2,
      'default-max-new-tokens': 8,
      ...this.o.extra,
    };
    const args = ['--import', 'tsx', join(repo, 'scripts/fleet-sim-agent.ts'), ...Object.entries(flags).map(([k, v]) => `--${k}=${v}`)];
    const env = { ...process.env, NO_COLOR: '1', REASOND_SIM_FAIL_SMOKE: this.o.failSmoke?.includes(a.device) ? '1' : '0' };
    const child = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env });
    a.child = child;
    return new Promise((resolve, reject) => {
      const onData = (b: Buffer) => {
        a.output += b;
        this.o.log?.(b.toString().trimEnd());
        if (a.output.includes(`ready ${a.device}`)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`${a.device} exited with ${code} before it was ready:\n${a.output.slice(-2000)}`)));
    });
  }

  /** SIGKILL (the broker then sends its last will: offline) or SIGTERM (a clean offline). */
  stopAgent(device: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.agent(device).child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.agents.map((a) => this.stopAgent(a.device)));
  }
}

async function main(): Promise<void> {
  const arg = (name: string, fallback?: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : fallback;
  };
  const model = arg('model');
  const trustedKeys = arg('trusted-keys');
  if (!model || !trustedKeys) {
    process.stderr.write('usage: fleet-sim.ts --agents N --broker URL --model <package dir> --trusted-keys <key.pub> [--fail-smoke a,b] [--pool NAME]\n');
    process.exit(2);
  }
  const fleet = new SimFleet({
    agents: Number(arg('agents', '3')), broker: arg('broker', 'mqtt://127.0.0.1:1883')!, model, trustedKeys,
    pool: arg('pool'), failSmoke: arg('fail-smoke')?.split(','), log: (l) => process.stderr.write(`${l}\n`),
  });
  process.once('SIGINT', () => void fleet.stop().then(() => process.exit(0)));
  await fleet.start();
  process.stderr.write(`fleet-sim: ${fleet.agents.map((a) => `${a.device} (${a.board})`).join(', ')} running; data in ${fleet.root}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void main();
