/**
 * `reasond run` as a user types it (issue 17): bad flags and an empty prompt are refused before the
 * model loads, naming the value given; the loaded model's own limit is the one quoted; a deadline
 * that ends the answer is a failing exit; a reader that goes away (`| head`) ends it quietly.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/models.js';

const cli = join(repoRoot, 'src/cli/index.ts');
const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', cli, 'run', ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

const refusals: [string[], string][] = [
  [[''], 'reasond: invalid_request: the prompt is empty: give the question or task to answer'],
  [['   '], 'reasond: invalid_request: the prompt is empty: give the question or task to answer'],
  [['hi', '--threads', 'abc'], 'reasond: invalid_request: --threads must be a whole number, from 0 to 256; got "abc"'],
  [['hi', '--threads', '-1'], 'reasond: invalid_request: --threads must be a whole number, from 0 to 256; got "-1"'],
  [['hi', '--max-new-tokens', 'abc'], 'reasond: invalid_request: --max-new-tokens must be a whole number, 1 or more; got "abc"'],
  [['hi', '--max-new-tokens', '2.5'], 'reasond: invalid_request: --max-new-tokens must be a whole number, 1 or more; got "2.5"'],
  [['hi', '--temperature', '-0.5'], 'reasond: invalid_request: --temperature must be a number, 0 or more; got "-0.5"'],
  [['hi', '--deadline-ms', '0'], 'reasond: invalid_request: --deadline-ms must be a whole number, 1 or more; got "0"'],
];

for (const [args, message] of refusals) {
  test(`reasond run ${args.map((a) => JSON.stringify(a)).join(' ')} is refused before the model loads, exit 2`, (t) => {
    const r = run(...args, '--verbose');
    t.is(r.status, 2);
    t.is(r.stdout, '');
    // nothing was loaded: --verbose would have logged the model file
    t.is(r.stderr.trim().split('\n').filter((l) => !l.startsWith('npm warn')).join('\n'), message);
  });
}

test("a max_new_tokens past the loaded model's context quotes that context (512), not a wire limit", (t) => {
  const r = run('What is 2+2?', '--max-new-tokens', '9999');
  t.is(r.status, 2);
  t.is(r.stderr.trim().split('\n').at(-1), 'reasond: invalid_request: max_new_tokens must be an integer from 1 to 512; got 9999');
});

test('a deadline that ends the answer exits 3 and says deadline', (t) => {
  const r = run('What is 2+2?', '--deadline-ms', '1');
  t.is(r.status, 3);
  // how many tokens came before the deadline depends on the clock, so only the verdict is asserted
  t.regex(r.stderr.trim().split('\n').at(-1)!, /^\[deadline\] \d+ prompt, \d+ reasoning, \d+ answer tokens;/);
});

test('a reader that goes away before the output ends the command quietly (EPIPE), exit 0', async (t) => {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'run', 'What is 17 + 25?', '--json'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy(); // like `| head -0`: the pipe's read end is closed before anything is written
  let err = '';
  child.stderr.on('data', (b) => (err += b));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.is(code, 0);
  t.false(err.includes('EPIPE'), err);
});
