/**
 * Integration test on a real one-node Slurm cluster (`npm run test:slurm`,
 * which starts it with scripts/slurm-local.sh; not part of `npm test`):
 * examples/slurm/submit.sh submits the shard array (task ids 1–4, two at a
 * time, so SLURM_ARRAY_TASK_MIN matters) and the merge job with afterok; the
 * merged report.json equals an unsharded `advkit eval` apart from timings.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { EvaluationReport } from '../../src/eval/types.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// bin/advkit.js finds tsx from its own folder, so the jobs may run anywhere.
const ADVKIT = `${process.execPath} ${path.join(ROOT, 'bin', 'advkit.js')}`;
const FLAGS = '--limit 48 --batch-size 8 --attacks fgsm,pgd --steps 2 --eps 0.1,0.2 --seed 2';

function results(file: string): unknown {
  const r = JSON.parse(readFileSync(file, 'utf8')) as EvaluationReport;
  const { createdAt: _c, durationMs: _d, resumed: _r, checklist, ...rest } = r;
  return { ...rest, checklist: checklist.filter((c) => c.field !== 'Time taken') };
}

function jobState(id: string): string {
  const text = execFileSync('scontrol', ['show', 'job', id], { encoding: 'utf8' });
  return /JobState=(\S+)/.exec(text)?.[1] ?? 'UNKNOWN';
}

it('sbatch --array shards, an afterok merge job: the unsharded report', {
  timeout: 600_000,
}, async () => {
  assert.ok(process.env.SLURM_CONF, 'SLURM_CONF is set (run through npm run test:slurm)');
  const out = mkdtempSync(path.join(tmpdir(), 'advkit-slurm-'));
  const env = {
    ...process.env,
    ADVKIT,
    ADVKIT_MODEL: path.join(ROOT, 'models', 'mnist-cnn', 'model.json'),
    ADVKIT_DATA: 'mnist:test',
    ADVKIT_OUT: path.join(out, 'sharded'),
    ADVKIT_FLAGS: FLAGS,
  };
  const submitted = execFileSync(
    path.join(ROOT, 'examples', 'slurm', 'submit.sh'),
    ['--array=1-4%2', `--output=${out}/shard-%a.log`, '--cpus-per-task=1'],
    // The jobs run (and log) in `out`.
    { env, cwd: out, encoding: 'utf8' },
  );
  const [, array, merge] = /array job (\d+), merge job (\d+)/.exec(submitted) ?? [];
  assert.ok(array && merge, `submit.sh printed the job ids: ${submitted}`);

  // In the jobs' folder, so that the model's name (its path from there) is the same.
  execFileSync(
    process.execPath,
    [
      path.join(ROOT, 'bin', 'advkit.js'),
      'eval',
      '--model',
      env.ADVKIT_MODEL,
      '--data',
      'mnist:test',
      ...FLAGS.split(' '),
      '--out',
      path.join(out, 'full'),
      '--quiet',
      '--threads',
      '1',
    ],
    { cwd: out, stdio: 'ignore' },
  );

  const deadline = Date.now() + 540_000;
  let state = jobState(merge);
  while (!['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT'].includes(state)) {
    assert.ok(Date.now() < deadline, `the merge job ${merge} finished in time (state ${state})`);
    await new Promise((r) => setTimeout(r, 2000));
    state = jobState(merge);
  }
  assert.equal(state, 'COMPLETED', `merge job ${merge}: see ${out}/advkit-merge-${merge}.log`);
  for (let i = 0; i < 4; i++) {
    assert.ok(
      existsSync(path.join(env.ADVKIT_OUT, `part-${i}-of-4.json`)),
      `array task ${i + 1} wrote part ${i}`,
    );
  }
  assert.deepEqual(
    results(path.join(env.ADVKIT_OUT, 'report.json')),
    results(path.join(out, 'full', 'report.json')),
  );
});
