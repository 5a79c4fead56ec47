/**
 * The execution-provider probe's child process (`reasond doctor`, issue 17): opens the model with
 * each provider this onnxruntime build lists and prints one JSON line. It runs apart because native
 * libraries write to file descriptor 2 directly (Dawn's "Couldn't load Vulkan", onnxruntime's
 * "Failed to load library"), which no log level in this process can silence; the parent keeps that
 * text only to explain a crash. argv: <model.onnx>
 */
import { probeExecutionProviders } from './onnx-session.js';

const path = process.argv[2];
if (!path) {
  console.error('usage: provider-probe-child <model.onnx>');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await probeExecutionProviders(path))}\n`);
