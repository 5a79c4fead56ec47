/** The doctor's view of the real machine; tests build their own DoctorContext. */
import { statfs } from 'node:fs/promises';
import type { AgentConfig } from '../../agent/config.js';
import { MqttConnection } from '../../mqtt/index.js';
import type { DoctorContext } from './types.js';

/** A broker that neither connects nor refuses within this is reported unreachable. */
export const BROKER_PROBE_MS = 8000;

export async function probeBroker(c: AgentConfig, timeoutMs = BROKER_PROBE_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let fail: (e: Error) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  // Its own client id: the agent's would make the broker drop the running agent's session.
  const connection = new MqttConnection({
    url: c.broker, clientId: `reasond-doctor-${c.device_id}-${process.pid}`, mqttVersion: c.mqtt_version as 4 | 5,
    ca: c.ca || undefined, cert: c.cert || undefined, key: c.key || undefined,
    username: c.username, password: c.password, reconnectMs: 60_000,
    // The agent retries forever; the doctor reports the first connection error.
    log: (line) => line.startsWith('mqtt: ') && fail(new Error(line.slice(6))),
  });
  try {
    await Promise.race([
      connection.start(),
      failed,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs))),
    ]);
  } finally {
    clearTimeout(timer);
    await connection.stop().catch(() => {});
  }
}

export function machineContext(config: AgentConfig): DoctorContext {
  return {
    config,
    nodeVersion: process.versions.node,
    arch: process.arch,
    sysRoot: config.sys_root,
    now: () => Date.now(),
    onnx: {
      // Imported here, not at the top: a build that cannot load must fail this row, not the doctor.
      version: async () => (await import('../../engine/onnx-session.js')).onnxRuntimeVersion(),
      // in a child process: native libraries print to stderr directly, which would break the report
      providers: async (path) => (await import('../../engine/provider-probe.js')).probeProvidersApart(path),
    },
    probeBroker: (c) => probeBroker(c),
    freeBytes: async (path) => {
      const s = await statfs(path);
      return s.bavail * s.bsize;
    },
  };
}
