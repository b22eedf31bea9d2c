/**
 * The README's library example must run as written: it is kept in
 * examples/quickstart.ts, checked here to be the README's code block, and run
 * against the built package (`advkit/node` resolves to dist/).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

test('the README library example is examples/quickstart.ts', () => {
  const readme = readFileSync('README.md', 'utf8');
  const block = /```ts\n\/\/ examples\/quickstart\.ts[^\n]*\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README has the quickstart block');
  const example = readFileSync('examples/quickstart.ts', 'utf8').split('\n').slice(1).join('\n');
  assert.equal(block[1].trim(), example.trim());
});

test('the README library example runs and prints its results', { timeout: 240_000 }, () => {
  if (!existsSync('dist/node.js')) execFileSync('npm', ['run', 'build'], { stdio: 'ignore' });
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'examples/quickstart.ts'], {
    encoding: 'utf8',
  });
  assert.match(out, /FGSM ε=0\.1: \d+\/100 fooled/);
  assert.match(out, /FGSM ε=0\.2: \d+\/100 fooled/);
  assert.match(out, /robust accuracy/i);
});
