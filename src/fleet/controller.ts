/**
 * `reasond controller` (issue 7): the site's registry, metrics history,
 * the devices' latest job results (issue 18), package store and server,
 * rollout engine, API and dashboard. Parts are
 * built by buildController() and handed in; start() brings them up in
 * order (database, package server, dashboard, broker connection, schedule)
 * and stop() takes them down in reverse, logging a part that fails to stop.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describeError } from '../core/errors.js';
import { brokerConnection, MqttConnection, RequestTable } from '../mqtt/index.js';
import { controllerTopics } from '../protocol/topics.js';
import { Database } from '../store/index.js';
import { cronEvery, type Scheduler } from '../core/scheduler.js';
import { PackageServer } from '../package/server.js';
import { readTrustedKeys } from '../package/trusted-keys.js';
import { controllerHandlers, type ApiDeps } from './api.js';
import { controllerDurations, type ControllerConfig } from './config.js';
import { MetricsHistory } from './history.js';
import { JobResults } from './job-results.js';
import { describeOperator, OperatorGate, readOperatorKeys } from './operator-auth.js';
import { DashboardServer } from './http/server.js';
import { PackageStore } from './package-store.js';
import { Registry } from './registry.js';
import { RolloutEngine } from './rollout/engine.js';
import { RolloutStore } from './rollout/store.js';
import { controllerMigrations } from './schema.js';

export interface ControllerParts {
  config: ControllerConfig;
  db: Database;
  connection: MqttConnection;
  registry: Registry;
  history: MetricsHistory;
  jobs: JobResults;
  packages: PackageStore;
  packageServer: PackageServer;
  dashboard: DashboardServer;
  engine: RolloutEngine;
  admin: RequestTable;
  scheduler: Scheduler;
  now: () => number;
  log: (line: string) => void;
  /** The operator keys it trusts, as the log names them. */
  operatorNames: string[];
}

export class Controller {
  private readonly cancels: (() => void)[] = [];

  constructor(readonly p: ControllerParts) {}

  get dashboardUrl(): string {
    return this.p.dashboard.url;
  }

  get packageUrl(): string {
    const url = this.p.packageServer.url;
    // a wildcard listener is reached by the host's name; an explicit address as it is
    return this.p.config.package_url || (this.p.config.package_host === '0.0.0.0' ? url.replace('127.0.0.1', hostname()) : url);
  }

  async start(): Promise<void> {
    const { config: c, connection, registry, jobs, engine, log } = this.p;
    await this.p.db.start();
    await this.p.packages.start();
    await this.p.packageServer.start();
    await this.p.dashboard.start();
    const topics = controllerTopics(c.base_topic);
    const prefix = topics.requestPrefix;
    connection.onMessage(async (m) => {
      // Not awaited: the client reads no packet (so no PUBACK for our own deploy requests) until this returns.
      if (m.topic.startsWith(prefix)) return void this.p.admin.handle(m);
      if (jobs.ingest(c.base_topic, m.topic, m.payload)) return;
      await registry.ingest(c.base_topic, m.topic, m.payload);
    });
    // Subscriptions are renewed on each connect: retained status/metrics and job results then replay, so the registry catches up.
    connection.onConnect(() => {
      void connection.subscribe([...topics.fleet, topics.jobResults, `${prefix}#`])
        .then(() => engine.poke())
        .catch((e) => log(`subscribe failed: ${describeError(e)}`));
    });
    registry.onChange = () => engine.poke();
    await connection.start();
    this.cancels.push(this.p.scheduler.schedule(cronEvery(controllerDurations(c).reconcileMs / 1000)!, 'rollout reconcile', () => engine.poke()));
    this.cancels.push(this.p.scheduler.schedule('0 * * * * *', 'metrics downsampling', () => this.p.history.downsample(this.p.now())));
    engine.poke(); // rollouts left running by an earlier controller process continue
    if (c.operator_auth === 'off') log(`operator_auth is off: anyone who can publish on ${prefix}# can change the fleet`);
    else if (!this.p.operatorNames.length) log('operator_keys lists no key: fleet-changing requests are refused until one is listed (reasond fleet keygen)');
    else log(`operators who may change the fleet: ${this.p.operatorNames.join(', ')}`);
    log(`controller ready: dashboard ${this.dashboardUrl}, packages ${this.packageUrl}, API on ${prefix}<action>`);
  }

  async stop(): Promise<void> {
    const step = async (name: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (e) {
        this.p.log(`stopping ${name} failed: ${describeError(e)}`);
      }
    };
    this.cancels.splice(0).forEach((c) => c());
    await step('mqtt', () => this.p.connection.stop());
    await step('rollout engine', () => this.p.engine.idle());
    await step('dashboard', () => this.p.dashboard.stop());
    await step('package server', () => this.p.packageServer.stop());
    await step('database', () => this.p.db.stop());
  }
}

export interface ControllerOverrides {
  scheduler: Scheduler;
  now?: () => number;
  log?: (line: string) => void;
}

export function buildController(c: ControllerConfig, o: ControllerOverrides): Controller {
  const now = o.now ?? Date.now;
  const log = o.log ?? ((line: string) => process.stderr.write(`[controller] ${line}\n`));
  const db = new Database(join(c.data_dir, 'controller.db'), controllerMigrations);
  const trusted = readTrustedKeys(c.trusted_keys);
  const operatorKeys = readOperatorKeys(c.operator_keys);
  const operators = new OperatorGate({ keys: operatorKeys, required: c.operator_auth !== 'off', skewMs: c.operator_clock_skew_s * 1000, db, now });
  const { historyRawMs, historyKeepMs } = controllerDurations(c);
  const history = new MetricsHistory(db, { rawKeepMs: historyRawMs, keepMs: historyKeepMs });
  const registry = new Registry(db, history, now, log);
  const jobs = new JobResults(log);
  const packages = new PackageStore(db, join(c.data_dir, 'packages'), join(c.data_dir, 'uploads'), trusted, now);
  const packageServer = new PackageServer({ root: packages.root, host: c.package_host, port: c.package_port, log });
  const connection = new MqttConnection({
    ...brokerConnection(c), clientId: `reasond-controller-${hostname()}`, mqttVersion: 5, reconnectMs: 1000, log,
  });
  const t = controllerTopics(c.base_topic);
  let controller: Controller | undefined;
  let seq = 0;
  // Fire and forget: the outcome comes back as events and status; a lost request is sent again (engine.ts).
  const request = async (device: string, action: string, body: Record<string, unknown>) =>
    void connection.publish(t.deviceRequest(device, action), JSON.stringify({ id: `controller-${now()}-${++seq}`, ...body }), { qos: 1 })
      .catch((e) => log(`${action} to ${device} not sent: ${describeError(e)}`));
  const rollouts = new RolloutStore(db, now);
  const engine = new RolloutEngine({
    store: rollouts, registry, history, now, log,
    deployTimeoutMs: c.deploy_timeout_s * 1000,
    hasPackage: (name, version) => packages.has(name, version),
    commands: {
      deploy: (device, p) => request(device, 'model/deploy', { ...p, url: `${controller!.packageUrl}${p.name}/${p.version}/` }),
      rollback: (device, reason) => request(device, 'model/rollback', { reason }),
    },
  });
  const deps: ApiDeps = { registry, history, packages, engine, rollouts, jobs, now, operators, log };
  const admin = new RequestTable({
    requestPrefix: t.requestPrefix, responseTopic: t.response, log,
    publish: (topic, payload, correlationData) => connection.publish(topic, payload, { qos: 1, correlationData }),
    handlers: controllerHandlers(deps),
  });
  const dashboard = new DashboardServer({ host: c.http_host, port: c.http_port, api: deps, log });
  controller = new Controller({ config: c, db, connection, registry, history, jobs, packages, packageServer, dashboard, engine, admin, scheduler: o.scheduler, now, log, operatorNames: operatorKeys.map(describeOperator) });
  return controller;
}
