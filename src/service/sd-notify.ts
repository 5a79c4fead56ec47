/**
 * sd_notify for `Type=notify` units (issue 8), after zigbee2mqtt's: a no-op
 * when NOTIFY_SOCKET is unset. Node cannot send on a unix datagram socket, so
 * each message goes through the `systemd-notify` binary; the units set
 * NotifyAccess=all because that child, not the main process, is the sender.
 * systemd-notify waits (BARRIER=1) until the manager has read the message,
 * which closes the race where a short-lived sender exits before systemd can
 * tell which unit it belongs to.
 */
import { execFile } from 'node:child_process';
import { describeError } from '../core/errors.js';

/** Runs `systemd-notify <assignments...>` with the given environment; rejects on failure. */
export type NotifySender = (assignments: string[], env: NodeJS.ProcessEnv) => Promise<void>;

export interface Timers {
  setInterval(fn: () => void, ms: number): { unref?(): void };
  clearInterval(handle: unknown): void;
}

export interface SdNotifyOptions {
  env: NodeJS.ProcessEnv;
  /** This process's pid: WATCHDOG_PID says which process systemd expects pings from. */
  pid: number;
  send?: NotifySender;
  timers?: Timers;
  log?: (line: string) => void;
}

export const systemdNotifyBinary: NotifySender = (assignments, env) =>
  new Promise((resolve, reject) => {
    execFile('systemd-notify', assignments, { env, timeout: 10_000 }, (e, _out, err) =>
      e ? reject(new Error(`systemd-notify ${assignments.join(' ')}: ${err.trim() || e.message}`)) : resolve(),
    );
  });

/** Half of WATCHDOG_USEC in milliseconds, as sd_watchdog_enabled(3) advises; undefined when off or meant for another pid. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

export class SdNotify {
  private chain: Promise<void> = Promise.resolve();
  private timer?: unknown;
  private failed = false;

  constructor(private readonly o: SdNotifyOptions) {}

  get enabled(): boolean {
    return Boolean(this.o.env.NOTIFY_SOCKET);
  }

  /** READY=1 and, when the unit has WatchdogSec, the watchdog pings. */
  ready(status = 'ready'): Promise<void> {
    const interval = watchdogIntervalMs(this.o.env, this.o.pid);
    if (this.enabled && interval !== undefined && this.timer === undefined) {
      const timers = this.o.timers ?? { setInterval, clearInterval: (h: unknown) => clearInterval(h as NodeJS.Timeout) };
      const handle = timers.setInterval(() => void this.send('WATCHDOG=1'), interval);
      handle.unref?.(); // the watchdog must never be what keeps the process alive
      this.timer = handle;
    }
    return this.send('READY=1', `STATUS=${status}`, `MAINPID=${this.o.pid}`);
  }

  stopping(status = 'stopping'): Promise<void> {
    this.stopWatchdog();
    return this.send('STOPPING=1', `STATUS=${status}`);
  }

  status(text: string): Promise<void> {
    return this.send(`STATUS=${text}`);
  }

  stopWatchdog(): void {
    if (this.timer === undefined) return;
    (this.o.timers?.clearInterval ?? ((h: unknown) => clearInterval(h as NodeJS.Timeout)))(this.timer);
    this.timer = undefined;
  }

  /** Messages go out one at a time, in order; a failure is logged once and never thrown. */
  private send(...assignments: string[]): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    const send = this.o.send ?? systemdNotifyBinary;
    this.chain = this.chain.then(() =>
      send(assignments, this.o.env).catch((e) => {
        if (!this.failed) this.o.log?.(`sd_notify failed (is systemd-notify installed?): ${describeError(e)}`);
        this.failed = true;
      }),
    );
    return this.chain;
  }
}
