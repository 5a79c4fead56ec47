/**
 * An OpenAI-compatible endpoint on the agent (issue 20): `POST /v1/chat/completions` (plain and
 * SSE streaming) and `GET /v1/models`, for the local apps that speak the chat API as they do to
 * Ollama or llama.cpp's server. It is a client of the agent like `reasond ask`: each request
 * becomes a task on the agent's own task topic, so it shares the queue, priorities, journal,
 * thermal guard and deadlines with every other task, and the reasoning comes back as
 * `reasoning_content`. Off by default (`http_port` 0); loopback unless opened; optional bearer token.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenError } from '../core/listen.js';
import { describeError, ReasondError } from '../core/errors.js';
import type { MqttConnection } from '../mqtt/index.js';

export interface OpenAiServerOptions {
  host: string;
  port: number;
  /** Empty: no authentication (loopback only is then the protection). */
  token: string;
  maxBodyBytes: number;
  /** How long a request may wait for its answer, ms (also the task's deadline). */
  timeoutMs: number;
  /** The connection it sends tasks and reads replies on (its own client of the broker). */
  connection: MqttConnection;
  taskTopic: string;
  replyTopic: string;
  /** The agent's task/cancel request topic: a request whose caller went away cancels its task. */
  cancelTopic: string;
  /** The model being served, for `model` in answers and /v1/models. */
  modelName: () => string;
  log: (line: string) => void;
}

type Reply = { id: string; type: 'delta' | 'result' | 'error'; channel?: 'reasoning' | 'answer'; text?: string; [k: string]: any };

interface Pending {
  onDelta?: (r: Reply) => void;
  done: (r: Reply) => void;
  timer: NodeJS.Timeout;
}

/** HTTP status of a reasond error code (docs/API.md's codes). */
const HTTP_STATUS: Record<string, number> = {
  invalid_request: 400, context_overflow: 400, payload_too_large: 413, busy: 429, thermal_throttled: 503,
  model_unavailable: 503, deadline_exceeded: 504, cancelled: 499, internal: 500,
};

const FINISH: Record<string, string> = { stop: 'stop', length: 'length', budget: 'stop', deadline: 'length', cancelled: 'stop' };

/** The chat request's fields as a reasond task; anything it cannot honour is an invalid_request naming it. */
export function taskFromChat(body: unknown, id: string, replyTo: string, deadlineMs: number): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ReasondError('invalid_request', 'the body must be a JSON object');
  const b = body as Record<string, any>;
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw new ReasondError('invalid_request', `messages must be a non-empty array; got ${JSON.stringify(b.messages)}`);
  const messages = b.messages.map((m: any, i: number) => {
    const content = typeof m?.content === 'string' ? m.content
      : Array.isArray(m?.content) && m.content.every((p: any) => p?.type === 'text' && typeof p.text === 'string') ? m.content.map((p: any) => p.text).join('')
        : undefined;
    if (content === undefined) throw new ReasondError('invalid_request', `messages[${i}].content must be a string or text parts; got ${JSON.stringify(m?.content)}`);
    return { role: m.role, content };
  });
  for (const k of ['n', 'tools', 'functions', 'logprobs', 'response_format']) {
    if (b[k] !== undefined && b[k] !== null && !(k === 'n' && b[k] === 1) && !(k === 'logprobs' && b[k] === false)) {
      throw new ReasondError('invalid_request', `${k} is not supported by reasond; got ${JSON.stringify(b[k])}`);
    }
  }
  const stop = b.stop === undefined || b.stop === null ? undefined : typeof b.stop === 'string' ? [b.stop] : b.stop;
  const maxTokens = b.max_completion_tokens ?? b.max_tokens;
  return {
    id, messages, stream: b.stream === true, reply_to: replyTo, deadline_ms: deadlineMs,
    ...(maxTokens !== undefined && maxTokens !== null ? { max_new_tokens: maxTokens } : {}),
    ...(b.temperature !== undefined && b.temperature !== null ? { temperature: b.temperature } : {}),
    ...(b.top_p !== undefined && b.top_p !== null ? { top_p: b.top_p } : {}),
    ...(b.seed !== undefined && b.seed !== null ? { seed: b.seed } : {}),
    ...(stop ? { stop } : {}),
  };
}

export class OpenAiServer {
  private server?: Server;
  private readonly pending = new Map<string, Pending>();
  /** The reply topic is subscribed on the current connection. */
  private subscribed = false;

  constructor(private readonly o: OpenAiServerOptions) {}

  /** Requests are taken: the broker connection is up and the reply topic subscribed on it. */
  get accepting(): boolean {
    return this.o.connection.connected && this.subscribed;
  }

  get url(): string {
    const address = this.server?.address();
    const port = address && typeof address === 'object' ? address.port : this.o.port;
    return `http://${this.o.host}:${port}/v1/`;
  }

  /** Listens; first waits up to `connectWaitMs` for its own broker connection (the agent passes 0 when the broker is away). */
  async start(connectWaitMs = 0): Promise<void> {
    const o = this.o;
    o.connection.onMessage(async (m) => {
      let r: Reply;
      try {
        r = JSON.parse(m.payload.toString('utf8'));
      } catch {
        return;
      }
      const p = this.pending.get(String(r?.id));
      if (!p) return;
      if (r.type === 'delta') return p.onDelta?.(r);
      this.forget(r.id);
      p.done(r);
    });
    // A request is taken only once the reply topic is subscribed on this connection: a task published
    // before that could be answered before the subscription, and its caller would wait out the deadline.
    const subscribed = new Promise<void>((resolve) =>
      o.connection.onConnect(() => {
        this.subscribed = false;
        o.connection.subscribe([o.replyTopic]).then(
          () => {
            this.subscribed = true;
            resolve();
          },
          (e) => o.log(`the OpenAI-compatible endpoint could not subscribe: ${describeError(e)}`),
        );
      }),
    );
    void o.connection.start().catch((e) => o.log(`the OpenAI-compatible endpoint's broker connection: ${describeError(e)}`));
    // The agent reached the broker, so this connection follows at once: waiting for it means a request
    // right after start is not refused. A broker still away: requests are refused (503, retry) until it is back.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([subscribed, new Promise<void>((resolve) => (timer = setTimeout(resolve, connectWaitMs)))]);
    clearTimeout(timer);
    this.server = createServer((req, res) => void this.handle(req, res).catch((e) => this.fail(res, new ReasondError('internal', describeError(e)))));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', (e: NodeJS.ErrnoException) => reject(listenError(e, 'the OpenAI-compatible endpoint', o.host, o.port, '--http-port (http_port)')));
      this.server!.listen(o.port, o.host, () => resolve());
    });
    o.log(`OpenAI-compatible endpoint on ${this.url} (POST chat/completions, GET models)${o.token ? ', bearer token required' : ''}`);
  }

  async stop(): Promise<void> {
    for (const id of [...this.pending.keys()]) this.forget(id);
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
    await this.o.connection.stop().catch(() => {});
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (this.o.token && !this.authorized(req.headers.authorization)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return this.fail(res, new ReasondError('invalid_request', 'a bearer token is required: Authorization: Bearer <http_token>'), 401);
    }
    if (req.method === 'GET' && path === '/v1/models') {
      return this.json(res, 200, { object: 'list', data: [{ id: this.o.modelName(), object: 'model', created: 0, owned_by: 'reasond' }] });
    }
    if (path !== '/v1/chat/completions') return this.fail(res, new ReasondError('invalid_request', `no such endpoint: ${req.method} ${path} (POST /v1/chat/completions, GET /v1/models)`), 404);
    if (req.method !== 'POST') return this.fail(res, new ReasondError('invalid_request', `${path} takes POST; got ${req.method}`), 405);
    const raw = await this.body(req);
    if (raw === undefined) return this.fail(res, new ReasondError('payload_too_large', `the body is over ${this.o.maxBodyBytes} bytes (max_payload_bytes)`));
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      return this.fail(res, new ReasondError('invalid_request', `the body is not JSON: ${describeError(e)}`));
    }
    const id = `http-${randomUUID()}`;
    let task: Record<string, unknown>;
    try {
      task = taskFromChat(body, id, this.o.replyTopic, this.o.timeoutMs);
    } catch (e) {
      return this.fail(res, e as ReasondError);
    }
    if (!this.accepting) {
      return this.fail(res, new ReasondError('model_unavailable', 'the agent has no broker connection just now; retry shortly', { retryAfterMs: 5000 }));
    }
    const created = Math.floor(Date.now() / 1000);
    const model = this.o.modelName();
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: `chatcmpl-${id}`, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const streaming = task.stream === true;
    let opened = false;
    const open = () => {
      if (opened) return;
      opened = true;
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
      res.write(chunk({ role: 'assistant' }));
    };
    const final = new Promise<Reply>((resolve) => {
      // the task's own deadline answers first; this only covers a reply that never comes
      const timer = setTimeout(() => {
        this.forget(id);
        resolve({ id, type: 'error', error: { code: 'deadline_exceeded', message: `no answer within ${this.o.timeoutMs} ms` } });
      }, this.o.timeoutMs + 5000);
      this.pending.set(id, {
        onDelta: streaming ? (d) => { open(); res.write(chunk(d.channel === 'reasoning' ? { reasoning_content: d.text } : { content: d.text })); } : undefined,
        done: resolve,
        timer,
      });
    });
    // the caller went away before the end: the task is cancelled, as Ctrl-C cancels `reasond run`
    res.on('close', () => {
      if (res.writableEnded || !this.forget(id)) return;
      void this.o.connection.publish(this.o.cancelTopic, JSON.stringify({ id: `${id}-cancel`, task_id: id }), { qos: 1 }).catch(() => {});
    });
    await this.o.connection.publish(this.o.taskTopic, JSON.stringify(task), { qos: 1 });
    const r = await final;
    if (r.type === 'error') {
      const e = new ReasondError(r.error?.code ?? 'internal', r.error?.message ?? 'the agent gave no reason', { retryAfterMs: r.retry_after_ms });
      if (!opened) return this.fail(res, e);
      res.write(`data: ${JSON.stringify({ error: { message: e.message, type: e.code, code: e.code } })}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    const finish = FINISH[r.finish_reason] ?? 'stop';
    const usage = { prompt_tokens: r.usage?.prompt_tokens, completion_tokens: r.usage?.completion_tokens, total_tokens: (r.usage?.prompt_tokens ?? 0) + (r.usage?.completion_tokens ?? 0) };
    if (streaming) {
      open();
      res.write(chunk({}, finish));
      res.write(`data: ${JSON.stringify({ id: `chatcmpl-${id}`, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    this.json(res, 200, {
      id: `chatcmpl-${id}`, object: 'chat.completion', created, model: r.model?.name ?? model,
      choices: [{ index: 0, message: { role: 'assistant', content: r.answer, ...(r.reasoning ? { reasoning_content: r.reasoning } : {}) }, finish_reason: finish }],
      usage,
    });
  }

  /** Drops a request's waiting; false if it was not waiting. */
  private forget(id: string): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    clearTimeout(p.timer);
    return this.pending.delete(id);
  }

  private authorized(header: string | undefined): boolean {
    const want = Buffer.from(`Bearer ${this.o.token}`);
    const got = Buffer.from(header ?? '');
    return got.length === want.length && timingSafeEqual(got, want);
  }

  private body(req: IncomingMessage): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      let size = 0;
      req.on('data', (b: Buffer) => {
        size += b.length;
        if (size <= this.o.maxBodyBytes) parts.push(b);
      });
      req.on('end', () => resolve(size > this.o.maxBodyBytes ? undefined : Buffer.concat(parts)));
      req.on('error', reject);
    });
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  /** OpenAI's error shape, with reasond's code as its type and code. */
  private fail(res: ServerResponse, e: ReasondError, status = HTTP_STATUS[e.code] ?? 500): void {
    if (res.headersSent) return void res.end();
    if (e.retryAfterMs !== undefined) res.setHeader('Retry-After', String(Math.ceil(e.retryAfterMs / 1000)));
    this.json(res, status, { error: { message: e.message, type: e.code, code: e.code } });
  }
}
