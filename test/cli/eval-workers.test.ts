/**
 * End to end: `advkit eval --workers N` writes the same report as without
 * it; --workers beside --threads above 1, and bad counts, are usage errors.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { describeError } from '../../src/cli/main.js';
import { WorkerError } from '../../src/index.js';
import { CNN, cli, errorLine, tempDir } from './helpers.js';

const common = [
  '--model',
  CNN,
  '--data',
  'mnist:test',
  '--limit',
  '30',
  '--attacks',
  'fgsm,pgd',
  '--steps',
  '3',
  '--eps',
  '0.1,0.2',
  '--seed',
  '4',
  '--batch-size',
  '8',
  '--quiet',
];

/** report.json without the fields that record when and how long. */
function reportIn(dir: string): unknown {
  const {
    createdAt: _c,
    durationMs: _d,
    resumed: _r,
    checklist,
    ...rest
  } = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8'));
  return {
    ...rest,
    checklist: checklist.filter((c: { field: string }) => c.field !== 'Time taken'),
  };
}

describe('advkit eval --workers', () => {
  it('writes the same report as one process', async () => {
    const [one, two] = [tempDir(), tempDir()];
    const [a, b] = await Promise.all([
      cli(['eval', ...common, '--threads', '1', '--out', one]),
      cli(['eval', ...common, '--workers', '2', '--out', two, '--json']),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(JSON.parse(b.stdout).examples, 30);
    assert.deepEqual(reportIn(two), reportIn(one));
  });

  it('--threads above 1 beside --workers, and bad counts, are usage errors', async () => {
    const results = await Promise.all([
      cli(['eval', ...common, '--workers', '2', '--threads', '2']),
      cli(['eval', ...common, '--workers', '0']),
      cli(['eval', ...common, '--workers', '1.5']),
      cli(['eval', ...common, '--workers', '65']),
      cli(['demo', '--workers', '2', '--threads', '3']),
    ]);
    for (const r of results) assert.equal(r.code, 2, r.stderr);
    const [threads, zero, half, many, demo] = results.map(errorLine);
    assert.match(
      threads,
      /--threads 2 and --workers 2 do not combine: each worker runs .* 1 thread/,
    );
    assert.match(zero, /--workers must be a positive integer; received "0"/);
    assert.match(half, /--workers must be a positive integer; received "1\.5"/);
    assert.match(many, /--workers must be from 1 to 64; received 65/);
    assert.match(demo, /--threads 3 and --workers 2 do not combine/);
  });

  it('--help documents --workers', async () => {
    const r = await cli(['eval', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--workers N\s+evaluate on N worker threads/);
  });

  it('a failure inside a worker is an internal error: exit 3, one line', () => {
    const { line, code } = describeError(
      new WorkerError('evaluation worker 1 of 2, batch 0 failed: TypeError: x\n  at y'),
    );
    assert.equal(code, 3);
    assert.equal(
      line,
      'internal error: evaluation worker 1 of 2, batch 0 failed: TypeError: x (set ADVKIT_DEBUG=1 for the stack)',
    );
  });
});
