/** Doctor checks about what the agent runs: the model, onnxruntime, the broker. */
import { join } from 'node:path';
import { readModelFolder } from '../../engine/index.js';
import { VersionStore } from '../../update/store.js';
import { resolveModel } from '../../update/hub/pulled.js';
import { describeError } from '../../core/errors.js';
import { chooseEmbeddedBroker, type EmbeddedChoice } from '../../mqtt/index.js';
import { weightsBytes } from './checks-host.js';
import type { Check } from './types.js';

/**
 * The model the agent serves: the update store's active package when it has one that is installed
 * (the agent falls back to the configured model only when that one fails at start-up), else the
 * configured model folder (or the folder of the pulled repo it names, issue 20).
 */
export async function servedModel(config: { model: string; models_dir: string; data_dir: string }): Promise<{ dir: string; package?: string }> {
  const modelsDir = config.models_dir || join(config.data_dir, 'models');
  const store = new VersionStore(modelsDir);
  const active = await store.active();
  if (active && store.isInstalled(active)) return { dir: active.dir, package: `${active.name}@${active.version}` };
  return { dir: resolveModel(config.model, () => modelsDir) };
}

export const modelCheck: Check = {
  name: 'model',
  fix: 'Point model (in /etc/reasond/config.json or --model) at a model folder: the shipped one is /opt/reasond/models/reasond-tiny; scripts/install.sh puts it there',
  async check({ config }) {
    try {
      const served = await servedModel(config);
      const spec = readModelFolder(served.dir, undefined);
      const weights = await weightsBytes(spec.onnxPath);
      // The engine reserves max_batch x context positions of keys and values (fp32) at load (issue 14).
      const context = config.context_tokens === 0 ? spec.contextLength : Math.min(config.context_tokens, spec.contextLength);
      const perPosition = (spec.numLayers ?? 0) * 2 * (spec.numKvHeads ?? 0) * (spec.headDim ?? 0) * 4;
      const kv = perPosition * context * config.max_batch;
      return {
        status: 'ok',
        detail: `${spec.name}${spec.version ? ` ${spec.version}` : ''} (${spec.layout}, ${spec.dtype}) in ${served.dir}${served.package ? ` (the active package ${served.package}; the configured ${config.model} is the fallback)` : ''}`,
        data: { weights_bytes: weights, onnx_path: spec.onnxPath, kv_bytes: kv, kv_shape: `max_batch ${config.max_batch} x ${context} positions`, dir: served.dir, package: served.package ?? '' },
      };
    } catch (e) {
      return { status: 'fail', detail: `${config.model}: ${describeError(e)}` };
    }
  },
};

export const onnxCheck: Check = {
  name: 'onnxruntime',
  fix: 'Reinstall the package (npm ci --omit=dev in /opt/reasond); onnxruntime-node ships its own library for linux arm64 and x64',
  async check({ onnx }, earlier) {
    let version: string;
    try {
      version = await onnx.version();
    } catch (e) {
      return { status: 'fail', detail: `onnxruntime-node does not load: ${describeError(e)}` };
    }
    const model = earlier.get('model')?.data?.onnx_path;
    if (typeof model !== 'string') return { status: 'warn', detail: `onnxruntime ${version}; execution providers not probed without a model`, fix: 'Fix the model check first' };
    const probes = await onnx.providers(model);
    const loaded = probes.filter((p) => p.loads).map((p) => p.name);
    const shown = probes.map((p) => `${p.name} ${p.loads ? 'loads' : 'does not load'}`).join(', ');
    if (!loaded.includes('cpu')) return { status: 'fail', detail: `onnxruntime ${version}: ${shown}; ${probes.find((p) => p.name === 'cpu')?.error ?? ''}` };
    return { status: 'ok', detail: `onnxruntime ${version}: ${shown}` };
  },
};

export const brokerCheck: Check = {
  name: 'broker',
  fix: 'Start the broker (systemctl status mosquitto) and check broker, ca, cert, key, username and password in /etc/reasond/config.json; the broker log says why it refused',
  async check(ctx) {
    const { config } = ctx;
    if (!config.broker) {
      const where = `${config.embedded_host}:${config.embedded_port}`;
      let choice: EmbeddedChoice;
      try {
        choice = chooseEmbeddedBroker(config.embedded_broker);
      } catch (e) {
        return { status: 'fail', detail: describeError(e), fix: 'apt-get install mosquitto, or set embedded_broker to auto or aedes' };
      }
      if (choice.kind === 'mosquitto') return { status: 'ok', detail: `none configured: the agent starts its embedded broker, Mosquitto (${choice.binary}, MQTT 5 and 3.1.1), on ${where}` };
      return {
        status: choice.missing ? 'warn' : 'ok',
        detail: `none configured: the agent starts its embedded broker, aedes (MQTT 3.1.1 only), on ${where}`,
        ...(choice.missing ? { fix: 'MQTT 5 clients (mosquitto_rr -V mqttv5, Response Topic, Message Expiry) need Mosquitto: apt-get install mosquitto, and the agent runs it as its embedded broker' } : {}),
      };
    }
    const tls = config.cert ? ' with a client certificate' : config.broker.startsWith('mqtts') || config.broker.startsWith('wss') ? ' over TLS' : '';
    try {
      await ctx.probeBroker(config);
      return { status: 'ok', detail: `connected to ${config.broker}${tls}` };
    } catch (e) {
      const why = describeError(e);
      const fix = /certificate|self.signed|CERT_|unable to verify/i.test(why)
        ? 'Check that ca is the CA that signed the broker\'s certificate, that cert/key are this device\'s pair, and that the clock is right (reasond doctor: clock)'
        : /Not authorized|Bad User Name|Bad username/i.test(why)
          ? 'The broker refused this client: check username/password, or that the client certificate\'s CN is in the broker\'s ACL'
          : undefined;
      return { status: 'fail', detail: `${config.broker}${tls}: ${why}`, ...(fix ? { fix } : {}) };
    }
  },
};
