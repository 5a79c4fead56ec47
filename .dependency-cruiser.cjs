/**
 * The layering check (#19), run by `npm test`: no import cycle between files (and so
 * none between folders), and no folder imports a floor above it or beside it.
 * The floors are docs/ARCHITECTURE.md's; change both together.
 */
const floors = [
  ['core', 'protocol'], // 0: the ground: import nothing of ours
  ['config'], // 1: the config mechanism every feature declares its keys with
  ['engine', 'mqtt', 'store'], // 2: the outside boundaries: onnxruntime, the broker, SQLite
  ['telemetry', 'package'], // 3
  ['task', 'update', 'jobs'], // 4
  ['agent', 'fleet', 'eval'], // 5: composition roots, and eval on the engine
  ['bench', 'service'], // 6: tools that drive the daemons' parts
  ['cli'], // 7: one file per command
];

const alt = (names) => `(${names.join('|')})`;

const layering = floors.flatMap((folders, n) =>
  folders.map((folder) => {
    const allowed = [folder, ...floors.slice(0, n).flat()];
    return {
      name: `floor-${folder}`,
      comment: `src/${folder} is on floor ${n}: it may import only ${allowed.join(', ')} (docs/ARCHITECTURE.md)`,
      severity: 'error',
      from: { path: `^src/${folder}/` },
      to: { path: '^src/', pathNot: `^src/${alt(allowed)}/` },
    };
  }),
);

// One file per outside boundary (STYLE.md rule 1).
const boundaries = [
  ['mqtt', '^src/mqtt/client\\.ts$'],
  ['aedes', '^src/mqtt/embedded-broker\\.ts$'],
  ['sqlite3', '^src/store/database\\.ts$'],
  ['node-cron', '^src/core/cron\\.ts$'],
  // the benchmark's floor is the one other sanctioned onnxruntime-node import: it measures onnxruntime bare
  ['onnxruntime-node', '^src/(engine/onnx-session|bench/floor)\\.ts$'],
  ['@huggingface/tokenizers', '^src/engine/tokenizer\\.ts$'],
  ['onnx-proto', '^src/engine/onnx-graph\\.ts$'],
  ['@huggingface/jinja', '^src/engine/chat-template\\.ts$'],
  ['cli-progress', '^src/cli/progress-bar\\.ts$'],
].map(([module, file]) => ({
  name: `boundary-${module}`,
  comment: `only ${file} imports ${module}`,
  severity: 'error',
  from: { path: '^src/', pathNot: file },
  to: { path: `node_modules/${module}/` },
}));

module.exports = {
  forbidden: [
    { name: 'no-cycle', comment: 'a cycle between files (the folders then import each other too)', severity: 'error', from: {}, to: { circular: true } },
    { name: 'no-unknown-folder', comment: 'every folder of src/ has a floor in .dependency-cruiser.cjs and docs/ARCHITECTURE.md', severity: 'error',
      from: { path: `^src/(?!${alt(floors.flat())}/)` }, to: {} },
    ...layering,
    ...boundaries,
    // bench and eval are tools: only their own commands reach them, so no other command loads them
    { name: 'bench-from-its-command', severity: 'error', from: { path: '^src/cli/', pathNot: '^src/cli/bench\\.ts$' }, to: { path: '^src/bench/' } },
    { name: 'eval-from-its-command', severity: 'error', from: { path: '^src/cli/', pathNot: '^src/cli/eval\\.ts$' }, to: { path: '^src/eval/' } },
    { name: 'runtime-not-tools', comment: 'the daemons never load the benchmark or eval', severity: 'error',
      from: { path: '^src/', pathNot: '^src/(bench|eval|cli)/' }, to: { path: '^src/(bench|eval)/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
