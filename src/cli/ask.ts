/**
 * `reasond ask`: sends one task to a device or a pool over MQTT and prints
 * the reply like `reasond run` (reasoning dimmed, then the answer).
 */
import { randomUUID } from 'node:crypto';
import type { Argv, CommandModule } from 'yargs';
import { ReasondError } from '../core/errors.js';
import { brokerConnection, MqttConnection } from '../mqtt/index.js';
import { checkAnswer } from '../protocol/answer-signature.js';
import { deviceTopic, poolTaskTopic } from '../protocol/topics.js';
import { brokerOptions, loadClientConfig, type ClientConfig } from './broker-options.js';
import { dim, isColour, reportError } from './output.js';

interface AskArgs {
  prompt: string;
  device?: string;
  pool: string;
  stream: boolean;
  json: boolean;
  timeout: number;
  'max-new-tokens'?: number;
  budget?: number;
  temperature?: number;
  seed?: number;
  priority?: number;
  system?: string;
  reasoning: boolean;
}

type Reply = { id: string; type: 'delta' | 'result' | 'error'; channel?: 'reasoning' | 'answer'; text?: string; [k: string]: unknown };

export const askCommand: CommandModule<object, AskArgs> = {
  command: 'ask <prompt>',
  describe: 'Send one reasoning task to an agent (or a pool) over MQTT and print the answer',
  builder: (y) =>
    // the broker options are a Record yargs cannot type field by field; AskArgs names what the handler reads
    (y.options(brokerOptions()) as Argv)
      .positional('prompt', { type: 'string', demandOption: true, describe: 'The question or task' })
      .option('device', { type: 'string', describe: "Send to this device's own task topic" })
      .option('pool', { type: 'string', default: 'default', describe: 'Send to the pool task topic (whichever agent is free); ignored with --device' })
      .option('stream', { type: 'boolean', default: false, describe: 'Print reasoning and answer as they are generated' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the final reply as JSON (with --stream, every reply as one JSON line)' })
      .option('timeout', { type: 'number', default: 120, describe: 'Seconds to wait for the answer; also sent as the task deadline' })
      .option('max-new-tokens', { type: 'number', describe: 'Most tokens to generate', defaultDescription: "the agent's default" })
      .option('budget', { type: 'number', describe: 'Reasoning budget in tokens' })
      .option('temperature', { type: 'number', describe: '0 = greedy' })
      .option('seed', { type: 'number', describe: 'Makes sampling reproducible' })
      .option('priority', { type: 'number', describe: '0-9, higher runs first' })
      .option('system', { type: 'string', describe: 'A system message' })
      .option('reasoning', { type: 'boolean', default: true, describe: 'Ask for the reasoning text (--no-reasoning leaves it out)' }),
  handler: async (a) => {
    const id = `ask-${randomUUID()}`;
    let c: ClientConfig;
    try {
      c = loadClientConfig(a as unknown as Record<string, unknown>);
    } catch (e) {
      return reportError(e);
    }
    const replyTopic = `${c.base_topic}/replies/${id}`;
    const taskTopic = a.device ? deviceTopic(c.base_topic, a.device, 'task') : poolTaskTopic(c.base_topic, a.pool);
    const connection = new MqttConnection({ ...brokerConnection(c), clientId: id, mqttVersion: 5, reconnectMs: 1000, failFast: true });
    const statusTopic = a.device ? deviceTopic(c.base_topic, a.device, 'status') : undefined;
    // every device's retained status that came in: the asked device's, and those of devices that answered
    const statuses = new Map<string, Record<string, unknown>>();
    const finals: Reply[] = [];
    let arrived = () => {};
    let timer: NodeJS.Timeout | undefined;
    try {
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(connection.connected
          ? new ReasondError('deadline_exceeded', `no answer from ${taskTopic} within ${a.timeout} s`)
          : new ReasondError('broker_unreachable', `no connection to the broker at ${c.broker} within ${a.timeout} s`)), a.timeout * 1000);
      });
      timedOut.catch(() => {});
      let last: string | undefined;
      connection.onMessage(async (m) => {
        if (m.topic.startsWith(`${c.base_topic}/`) && m.topic.endsWith('/status')) return void statuses.set(m.topic, parseStatus(m.payload));
        const r = JSON.parse(m.payload.toString('utf8')) as Reply;
        if (r.id !== id) return;
        if (r.type === 'delta') {
          if (a.json) return void process.stdout.write(JSON.stringify(r) + '\n');
          if (r.channel === 'answer' && last === 'reasoning') process.stdout.write(isColour ? '\n\n' : '\n[answer]\n');
          if (r.channel === 'reasoning' && last === undefined && !isColour) process.stdout.write('[reasoning]\n');
          last = r.channel;
          process.stdout.write(r.channel === 'reasoning' ? dim(r.text ?? '') : r.text ?? '');
          return;
        }
        finals.push(r);
        arrived();
      });
      // Every agent keeps a retained status: the broker hands it over with the subscription, so a
      // device it has never heard of is known at once, not after the whole timeout.
      const statusOf = async (topic: string) => {
        if (!statuses.has(topic)) {
          await connection.subscribe([topic]);
          for (let waited = 0; !statuses.has(topic) && waited < STATUS_WAIT_MS; waited += 50) await new Promise((r) => setTimeout(r, 50));
        }
        return statuses.get(topic);
      };
      // The timeout covers an unreachable broker too (start() retries until it connects).
      await Promise.race([connection.start(), timedOut]);
      await connection.subscribe([replyTopic]);
      if (statusTopic) {
        const status = await statusOf(statusTopic);
        if (status === undefined) {
          throw new ReasondError('invalid_request', `no device ${JSON.stringify(a.device)} is known to the broker at ${c.broker}: it holds no retained ${statusTopic} (reasond fleet status lists the devices)`);
        }
        if (status.state === 'offline') process.stderr.write(`reasond: ${a.device} is offline; the task waits for it until --timeout (${a.timeout} s)\n`);
      }
      const task = {
        id,
        messages: [...(a.system ? [{ role: 'system', content: a.system }] : []), { role: 'user', content: a.prompt }],
        max_new_tokens: a['max-new-tokens'],
        temperature: a.temperature,
        seed: a.seed,
        priority: a.priority,
        reasoning: a.budget !== undefined || !a.reasoning ? { budget_tokens: a.budget, include: a.reasoning } : undefined,
        stream: a.stream,
        deadline_ms: Math.round(a.timeout * 1000),
        // Both routes: MQTT 5 agents use the Response Topic, 3.1.1 ones reply_to.
        reply_to: replyTopic,
      };
      await connection.publish(taskTopic, JSON.stringify(task), { qos: 1, responseTopic: replyTopic, correlationData: Buffer.from(id) });
      // The first final reply that is what it claims to be: another board can write reply topics too (issue 16).
      for (;;) {
        while (!finals.length) await Promise.race([new Promise<void>((r) => (arrived = r)), timedOut]);
        const r = finals.shift()!;
        const why = await Promise.race([notGenuine(r, a, c.base_topic, statusOf), timedOut]);
        if (!why) {
          print(r, a);
          break;
        }
        process.stderr.write(`reasond: ignored a reply to ${id} that claims to come from ${JSON.stringify(r.device)}: ${why}\n`);
      }
    } catch (e) {
      reportError(e);
    } finally {
      clearTimeout(timer);
      await connection.stop().catch(() => {});
    }
  },
};

/**
 * Why a final reply is not the answer of the device it names (undefined: it is): another device than
 * the one asked, a device of another pool, or a signature that does not match the `answer_key` in the
 * device's retained status, which only that device can write under the shipped ACL. A device whose
 * status has no answer_key (an agent before issue 16) is taken at its word.
 */
async function notGenuine(r: Reply, a: AskArgs, base: string, statusOf: (topic: string) => Promise<Record<string, unknown> | undefined>): Promise<string | undefined> {
  if (typeof r.device !== 'string' || !r.device) return 'it names no device';
  if (a.device && r.device !== a.device) return `the task went to ${a.device}`;
  const status = await statusOf(deviceTopic(base, r.device, 'status'));
  if (!status) return `the broker holds no status for ${r.device}`;
  if (!a.device && status.pool !== a.pool) return `${r.device} serves pool ${JSON.stringify(status.pool)}, not ${JSON.stringify(a.pool)}`;
  if (typeof status.answer_key !== 'string') return undefined;
  const verdict = checkAnswer(r, status.answer_key);
  if (verdict === 'unsigned') return `it is not signed, though ${r.device} signs its answers`;
  if (verdict === 'bad') return `its signature does not match ${r.device}'s answer key`;
  return undefined;
}

/** How long a retained status may take to arrive after the subscription (it comes with it, in practice at once). */
const STATUS_WAIT_MS = 1500;

function parseStatus(payload: Buffer): { state?: unknown } {
  try {
    const s = JSON.parse(payload.toString('utf8'));
    return s !== null && typeof s === 'object' ? s : {};
  } catch {
    return {};
  }
}

function print(r: Reply, a: AskArgs): void {
  if (r.type === 'error') {
    if (a.json) process.stdout.write(JSON.stringify(r, null, a.stream ? 0 : 2) + '\n');
    const err = r.error as { code: string; message: string };
    const retry = r.retry_after_ms !== undefined ? ` (retry in ${r.retry_after_ms} ms)` : '';
    process.stderr.write(`reasond: ${err.code}: ${err.message}${retry}\n`);
    process.exitCode = err.code === 'invalid_request' || err.code === 'context_overflow' ? 2 : 1;
    return;
  }
  if (a.json) return void process.stdout.write(JSON.stringify(r, null, a.stream ? 0 : 2) + '\n');
  if (!a.stream) {
    const reasoning = String(r.reasoning ?? '');
    if (reasoning) process.stdout.write((isColour ? dim(reasoning) : `[reasoning]\n${reasoning}`) + (isColour ? '\n\n' : '\n[answer]\n'));
    process.stdout.write(String(r.answer ?? ''));
  }
  process.stdout.write('\n');
  const u = r.usage as Record<string, number>;
  const t = r.timing as Record<string, number>;
  process.stderr.write(
    dim(`[${r.finish_reason}] ${r.device}: ${u.prompt_tokens} prompt, ${u.reasoning_tokens} reasoning, ${u.answer_tokens} answer tokens; ` +
      `queue ${t.queue_ms} ms, first token ${t.first_token_ms} ms, decode ${t.decode_tokens_per_s} tok/s, ${t.total_ms} ms`) + '\n',
  );
}
