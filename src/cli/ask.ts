/**
 * `reasond ask`: sends one task to a device or a pool over MQTT and prints
 * the reply like `reasond run` (reasoning dimmed, then the answer).
 */
import { randomUUID } from 'node:crypto';
import type { CommandModule } from 'yargs';
import { ReasondError } from '../core/errors.js';
import { MqttConnection } from '../mqtt/index.js';
import { dim, isColour, reportError } from './output.js';

interface AskArgs {
  prompt: string;
  device?: string;
  pool: string;
  broker: string;
  'base-topic': string;
  username?: string;
  password?: string;
  ca?: string;
  cert?: string;
  key?: string;
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
    y
      .positional('prompt', { type: 'string', demandOption: true, describe: 'The question or task' })
      .option('device', { type: 'string', describe: "Send to this device's own task topic" })
      .option('pool', { type: 'string', default: 'default', describe: 'Send to the pool task topic (whichever agent is free); ignored with --device' })
      .option('broker', { type: 'string', default: process.env.REASOND_BROKER || 'mqtt://127.0.0.1:1883', describe: 'Broker URL [env REASOND_BROKER]' })
      .option('base-topic', { type: 'string', default: process.env.REASOND_BASE_TOPIC || 'reasond', describe: 'First topic level [env REASOND_BASE_TOPIC]' })
      .option('username', { type: 'string', describe: 'Broker user name [env REASOND_USERNAME]', default: process.env.REASOND_USERNAME })
      .option('password', { type: 'string', describe: 'Broker password [env REASOND_PASSWORD]', default: process.env.REASOND_PASSWORD, defaultDescription: 'none' })
      .option('ca', { type: 'string', describe: 'CA certificate file for mqtts:// [env REASOND_CA]', default: process.env.REASOND_CA })
      .option('cert', { type: 'string', describe: 'Client certificate file for mutual TLS [env REASOND_CERT]', default: process.env.REASOND_CERT })
      .option('key', { type: 'string', describe: 'Client private key file for mutual TLS [env REASOND_KEY]', default: process.env.REASOND_KEY })
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
    const replyTopic = `${a['base-topic']}/replies/${id}`;
    const taskTopic = a.device ? `${a['base-topic']}/${a.device}/task` : `${a['base-topic']}/pool/${a.pool}/task`;
    const connection = new MqttConnection({ url: a.broker, clientId: id, mqttVersion: 5, username: a.username, password: a.password, ca: a.ca, cert: a.cert, key: a.key, reconnectMs: 1000 });
    let timer: NodeJS.Timeout | undefined;
    try {
      const final = new Promise<Reply>((resolve, reject) => {
        timer = setTimeout(() => reject(new ReasondError('deadline_exceeded', `no answer from ${taskTopic} within ${a.timeout} s`)), a.timeout * 1000);
        let last: string | undefined;
        connection.onMessage(async (m) => {
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
          resolve(r);
        });
      });
      // The timeout covers an unreachable broker too (start() retries until it connects).
      await Promise.race([connection.start(), final]);
      await connection.subscribe([replyTopic]);
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
      const r = await final;
      print(r, a);
    } catch (e) {
      reportError(e);
    } finally {
      clearTimeout(timer);
      await connection.stop().catch(() => {});
    }
  },
};

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
