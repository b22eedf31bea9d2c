/**
 * End to end: `advkit eval` writes a report that parses and holds the same
 * numbers as calling `evaluate` with the same options; --json; the
 * --fail-under gate's exit codes.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { loadMnist } from '../../src/data/index.js';
import { evaluate } from '../../src/eval/index.js';
import { setBackend } from '../../src/index.js';
import { loadClassifierFromFile } from '../../src/model/load-node.js';
import { writeFixtureModel } from './fixture-model.js';
import { cli, tempDir } from './helpers.js';

let model10: string;
const common = (m: string) => [
  '--model',
  m,
  '--data',
  'mnist:test',
  '--limit',
  '20',
  '--attacks',
  'fgsm,pgd',
  '--steps',
  '5',
  '--eps',
  '0.05,0.1',
  '--seed',
  '3',
  '--batch-size',
  '8',
];

before(async () => {
  await setBackend('wasm');
  model10 = await writeFixtureModel(path.join(tempDir(), 'm10'));
});

describe('advkit eval', () => {
  it('writes a report with the same numbers as the library, and --json parses', async () => {
    const out = tempDir();
    const r = await cli(['eval', ...common(model10), '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.examples, 20);
    for (const f of ['report.json', 'report.md', 'report.html']) {
      assert.ok(existsSync(path.join(out, f)), `${f} written`);
    }
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    assert.equal(report.seed, 3);
    assert.equal(report.data.examples, 20);

    const { model, checksum } = await loadClassifierFromFile(model10);
    const lib = await evaluate(
      model,
      loadMnist('test', { limit: 20 }),
      {
        attacks: [
          { name: 'fgsm', options: { norm: 'linf' } },
          { name: 'pgd', options: { norm: 'linf', steps: 5 } },
        ],
        epsilons: [0.05, 0.1],
        norm: 'linf',
      },
      { seed: 3, batchSize: 8, modelChecksum: checksum },
    );
    model.dispose();
    assert.equal(report.model.checksum, checksum);
    assert.deepEqual(report.clean.accuracy, lib.clean.accuracy);
    const pick = (rep: typeof lib) =>
      rep.attacks.map((a) =>
        a.results.map((x) => [
          a.name,
          x.epsilon,
          x.robustAccuracy.numerator,
          x.successRate.numerator,
        ]),
      );
    assert.deepEqual(pick(report), pick(lib));
    assert.deepEqual(
      summary.results.map((x: { robustAccuracy: number }) => x.robustAccuracy),
      lib.attacks.flatMap((a) => a.results.map((x) => x.robustAccuracy.value)),
    );
  });

  it('--fail-under: exit 1 below the threshold (naming the attack and ε), 0 at or above', async () => {
    const [low, high] = await Promise.all([
      cli([
        'eval',
        ...common(model10),
        '--out',
        tempDir(),
        '--no-minimal-eps',
        '--fail-under',
        '0.9',
      ]),
      cli([
        'eval',
        ...common(model10),
        '--out',
        tempDir(),
        '--no-minimal-eps',
        '--fail-under',
        '0%',
      ]),
    ]);
    assert.equal(low.code, 1, low.stderr);
    assert.match(
      low.stderr,
      /gate FAILED: robust accuracy .* under (fgsm|pgd) at ε = 0\.1 .* below --fail-under 90\.0 %/,
    );
    assert.equal(high.code, 0, high.stderr);
    assert.match(high.stderr, /gate passed/);
  });

  it('--resume without a checkpoint and a bad --fail-under are usage errors', async () => {
    const [resume, gate] = await Promise.all([
      cli(['eval', ...common(model10), '--out', tempDir(), '--resume']),
      cli(['eval', ...common(model10), '--fail-under', '1.5']),
    ]);
    assert.equal(resume.code, 2);
    assert.match(resume.stderr, /^advkit: error: --resume: there is no checkpoint/);
    assert.equal(gate.code, 2);
    assert.match(
      gate.stderr,
      /^advkit: error: --fail-under must be a robust accuracy between 0 and 1/,
    );
  });
});
