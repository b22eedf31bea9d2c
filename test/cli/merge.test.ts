/**
 * `advkit eval` as the shards of a Kubernetes Indexed Job (JOB_COMPLETION_INDEX
 * and --shard-count faked), one of them killed after its first batch and
 * run again as the scheduler would, then `advkit merge` into the shards'
 * folder: report.json equals an unsharded run's apart from the timings. A
 * missing part and bad shard flags are one-line errors (exit 2).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { resolveShard, shardFlag } from '../../src/cli/shard.js';
import type { EvaluationReport } from '../../src/eval/types.js';
import { CNN, cli, errorLine, ROOT, tempDir } from './helpers.js';

// 24 examples in 3 batches of 8; shard 0 of 2 is batch 0, shard 1 batches 1–2.
const EVAL = [
  'eval',
  '--model',
  CNN,
  '--data',
  'mnist:test',
  '--limit',
  '24',
  '--batch-size',
  '8',
  '--attacks',
  'fgsm,pgd',
  '--steps',
  '2',
  '--eps',
  '0.1,0.2',
  '--seed',
  '4',
  '--threads',
  '1',
  '--quiet',
];

/** report.json without the fields that record when and how long. */
function results(file: string): unknown {
  const r = JSON.parse(readFileSync(file, 'utf8')) as EvaluationReport;
  const { createdAt: _c, durationMs: _d, resumed: _r, checklist, ...rest } = r;
  return { ...rest, checklist: checklist.filter((c) => c.field !== 'Time taken') };
}

/** Start a shard; kill it once its checkpoint shows a finished batch. Resolves when it is dead. */
function killAfterFirstBatch(args: string[], env: NodeJS.ProcessEnv, checkpoint: string) {
  return new Promise<{ killed: boolean }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: 'ignore',
      },
    );
    const poll = setInterval(() => {
      if (existsSync(checkpoint)) {
        clearInterval(poll);
        child.kill('SIGKILL');
      }
    }, 20);
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearInterval(poll);
      resolve({ killed: signal === 'SIGKILL' });
    });
  });
}

describe('advkit eval --shard-count with JOB_COMPLETION_INDEX, then advkit merge', () => {
  it('2 shards (one killed and retried) merge to the unsharded report', async () => {
    const dir = tempDir('advkit-merge-');
    const shards = path.join(dir, 'shards');
    const k8s = (i: number) => ({ JOB_COMPLETION_INDEX: String(i) });
    const shard = [...EVAL, '--out', shards, '--shard-count', '2'];
    const [full, first, killed] = await Promise.all([
      cli([...EVAL, '--out', path.join(dir, 'full')]),
      cli(shard, { env: k8s(0) }),
      killAfterFirstBatch(shard, k8s(1), path.join(shards, 'checkpoint-1-of-2.json')),
    ]);
    assert.equal(full.code, 0, full.stderr);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /shard 0 of 2: batches 0–0 of 3, examples 0–7\n/);
    assert.ok(killed.killed, 'shard 1 was killed before it finished');
    assert.ok(!existsSync(path.join(shards, 'part-1-of-2.json')), 'a killed shard leaves no part');

    const missing = await cli(['merge', shards, '--out', shards]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(
      errorLine(missing),
      /no part covers batches 1–2 \(examples 8–23\): missing shard 1 of 2 \(part-1-of-2\.json\)/,
    );

    const retried = await cli(shard, { env: k8s(1) });
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, /shard 1 of 2: batches 1–2 of 3, examples 8–23 \(resumed\)/);

    const merged = await cli([
      'merge',
      path.join(shards, 'part-0-of-2.json'),
      path.join(shards, 'part-1-of-2.json'),
      '--out',
      shards,
      '--json',
    ]);
    assert.equal(merged.code, 0, merged.stderr);
    assert.equal(JSON.parse(merged.stdout).parts, 2);
    assert.deepEqual(
      results(path.join(shards, 'report.json')),
      results(path.join(dir, 'full', 'report.json')),
    );
  });

  it('shard flags: the environment, a count, 0-based index, --out; one-line errors', async () => {
    const k = { JOB_COMPLETION_INDEX: '3' };
    assert.deepEqual(resolveShard({ shard: undefined, 'shard-count': 4 }, k)?.shard, {
      index: 3,
      count: 4,
    });
    assert.equal(resolveShard({ shard: 'off', 'shard-count': undefined }, k), undefined);
    assert.equal(resolveShard({ shard: undefined, 'shard-count': undefined }, {}), undefined);
    assert.throws(
      () => resolveShard({ shard: undefined, 'shard-count': undefined }, k),
      /--shard-count N\), or --shard off/,
    );
    assert.throws(
      () => resolveShard({ shard: undefined, 'shard-count': 4 }, {}),
      /needs the shard index: JOB_COMPLETION_INDEX/,
    );
    assert.throws(
      () => resolveShard({ shard: { index: 0, count: 2 }, 'shard-count': 4 }, {}),
      /disagree/,
    );
    assert.throws(
      () => shardFlag('2/2', 'shard'),
      /--shard\.index must be an integer from 0 to 1 \(0-based/,
    );
    const noOut = await cli([...EVAL, '--shard', '0/2']);
    assert.equal(noOut.code, 2);
    assert.match(errorLine(noOut), /shard 0 of 2 \(--shard 0\/2\) needs --out/);
  });
});
