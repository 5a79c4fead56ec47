/**
 * Site temperatures for the scheduled-jobs example (issue 18): every --interval seconds, each line's
 * temperature (whole degrees, as a plain number) on site/line<N>/temperature. A line wanders by at
 * most a degree a reading; a line named by --heat climbs a degree a reading until --max, so a job's
 * "moved more than 3 °C" alert fires within a few minutes.
 *
 *   npx tsx scripts/site-sim.ts --broker mqtt://127.0.0.1:1883 --lines 2 --interval 10 --heat line2
 *
 * Ctrl-C stops it; --count N stops after N rounds.
 */
import { MqttConnection } from '../src/mqtt/index.js';

interface SimOptions {
  broker: string;
  lines: number;
  intervalS: number;
  heat: string[];
  max: number;
  seed: number;
  /** Ticks to publish before exiting (0 = until Ctrl-C). */
  count: number;
}

function parseArgs(argv: string[]): SimOptions {
  const o: SimOptions = { broker: 'mqtt://127.0.0.1:1883', lines: 2, intervalS: 10, heat: [], max: 45, seed: 1, count: 0 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    const number = (name: string, min: number) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer of at least ${min}; got ${JSON.stringify(value)}`);
      i++;
      return n;
    };
    if (flag === '--broker') (o.broker = value), i++;
    else if (flag === '--lines') o.lines = number('--lines', 1);
    else if (flag === '--interval') o.intervalS = number('--interval', 1);
    else if (flag === '--max') o.max = number('--max', 1);
    else if (flag === '--seed') o.seed = number('--seed', 0);
    else if (flag === '--count') o.count = number('--count', 0);
    else if (flag === '--heat') (o.heat = value.split(',')), i++;
    else throw new Error(`unknown flag ${flag}; use --broker, --lines, --interval, --heat, --max, --seed, --count`);
  }
  return o;
}

/** A small deterministic generator, so two runs with one seed publish the same readings. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const rand = random(o.seed);
  const connection = new MqttConnection({ url: o.broker, clientId: `site-sim-${process.pid}`, mqttVersion: 4, reconnectMs: 1000 });
  await connection.start();
  const temps = Array.from({ length: o.lines }, (_, i) => 24 + i);
  const tick = async () => {
    for (let i = 0; i < o.lines; i++) {
      const line = `line${i + 1}`;
      temps[i] = o.heat.includes(line) ? Math.min(o.max, temps[i] + 1) : temps[i] + Math.round(rand() * 2 - 1);
      await connection.publish(`site/${line}/temperature`, String(temps[i]), { qos: 1 }).catch((e) => process.stderr.write(`${line}: not sent: ${(e as Error).message}\n`));
    }
    process.stdout.write(`${new Date().toISOString()} ${temps.map((t, i) => `line${i + 1}=${t}`).join(' ')}\n`);
  };
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    clearInterval(timer);
    void connection.stop().then(() => process.exit(0));
  };
  const round = async () => {
    await tick();
    if (o.count && ++sent >= o.count) stop();
  };
  await round();
  timer = setInterval(() => void round(), o.intervalS * 1000);
  process.once('SIGINT', stop);
}

main().catch((e) => {
  process.stderr.write(`site-sim: ${(e as Error).message}\n`);
  process.exit(2);
});
