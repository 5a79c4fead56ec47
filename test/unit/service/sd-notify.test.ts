import test from 'ava';
import { SdNotify, watchdogIntervalMs, type Timers } from '../../../src/service/sd-notify.js';

function recorder() {
  const sent: string[][] = [];
  return { sent, send: async (a: string[]) => void sent.push(a) };
}

function manualTimers() {
  const t = { fn: undefined as undefined | (() => void), ms: 0, cleared: false };
  const timers: Timers = {
    setInterval: (fn, ms) => ((t.fn = fn), (t.ms = ms), {}),
    clearInterval: () => void (t.cleared = true),
  };
  return { t, timers };
}

test('without NOTIFY_SOCKET nothing is sent and no watchdog timer starts', async (t) => {
  const r = recorder();
  const { t: timer, timers } = manualTimers();
  const n = new SdNotify({ env: { WATCHDOG_USEC: '30000000' }, pid: 42, send: r.send, timers });
  t.false(n.enabled);
  await n.ready();
  await n.stopping();
  t.deepEqual(r.sent, []);
  t.is(timer.fn, undefined);
});

test('READY, WATCHDOG at half of WATCHDOG_USEC, STOPPING, in that order', async (t) => {
  const r = recorder();
  const { t: timer, timers } = manualTimers();
  const n = new SdNotify({ env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, pid: 42, send: r.send, timers });
  await n.ready('serving');
  t.is(timer.ms, 15000);
  timer.fn!();
  timer.fn!();
  await n.stopping('SIGTERM');
  t.true(timer.cleared);
  t.deepEqual(r.sent, [
    ['READY=1', 'STATUS=serving', 'MAINPID=42'],
    ['WATCHDOG=1'],
    ['WATCHDOG=1'],
    ['STOPPING=1', 'STATUS=SIGTERM'],
  ]);
});

test('watchdog interval: off without WATCHDOG_USEC or when WATCHDOG_PID names another process', (t) => {
  t.is(watchdogIntervalMs({}, 1), undefined);
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: '0' }, 1), undefined);
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: '7' }, 1), undefined);
  t.is(watchdogIntervalMs({ WATCHDOG_USEC: '2000000' }, 1), 1000);
});

test('a failing sender is logged once and never throws', async (t) => {
  const logs: string[] = [];
  const n = new SdNotify({ env: { NOTIFY_SOCKET: '/run/x' }, pid: 1, send: async () => Promise.reject(new Error('ENOENT')), log: (l) => logs.push(l) });
  await n.ready();
  await n.stopping();
  t.is(logs.length, 1);
  t.regex(logs[0]!, /sd_notify failed.*ENOENT/);
});
