/**
 * Inputs that used to crash, hang or mislead (issue 13), each with the
 * error it gives now: output folders that cannot be made or belong to
 * another run, data in other units than the bounds, ε beyond the bounds,
 * seeds out of range, a resume whose plan changed, multi-line loader
 * errors. The checks are called directly where they are pure; a few go
 * through the CLI for the one-line, exit-2 contract.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  checkDataUsesBounds,
  checkEpsilonsInRange,
  claimOutDir,
  prepareOutDir,
  RUN_FILE,
  runPlan,
} from '../../src/cli/checks.js';
import { UsageError } from '../../src/cli/flags.js';
import { describeError } from '../../src/cli/main.js';
import { makePlan } from '../../src/eval/plan.js';
import { fieldDifferences, restoreState } from '../../src/eval/state.js';
import { AdvkitError, LoadError, setBackend } from '../../src/index.js';
import { fileSaveHandler } from '../../src/model/io-node.js';
import { tinyCnn } from '../fixtures.js';
import { cli, errorLine, tempDir } from './helpers.js';

const usage = (re: RegExp) => (e: unknown) => e instanceof UsageError && re.test(e.message);

describe('the output folder', () => {
  it('/proc/x is refused within about a second, naming the flag (Node’s recursive mkdir spins there)', async () => {
    const t0 = Date.now();
    await assert.rejects(
      prepareOutDir('/proc/x'),
      usage(/^--out \/proc\/x: cannot create \/proc\/x \(ENOENT\)/),
    );
    assert.ok(Date.now() - t0 < 1500, `answered in ${Date.now() - t0} ms`);
  });
  it('a file, or a path through a file, is one line naming the flag, not ENOTDIR', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'report.txt');
    writeFileSync(file, 'x');
    await assert.rejects(
      prepareOutDir(file),
      usage(/^--out .*report\.txt is a file; expected a folder/),
    );
    await assert.rejects(
      prepareOutDir(path.join(file, 'sub'), 'out'),
      usage(
        /^--out .*report\.txt\/sub: .*report\.txt is a file, so no folder can be made inside it/,
      ),
    );
    const nested = path.join(dir, 'a', 'b', 'c');
    assert.equal(await prepareOutDir(nested), nested, 'missing parents are created');
    assert.ok(existsSync(nested), 'created');
  });
  it('a non-empty folder that is not the same run is refused unless --force; the same plan and --resume pass', async () => {
    const plan = runPlan({ model: 'm.json', eps: [0.1, 0.3], seed: 0, out: 'x', quiet: true }, [
      'model',
    ]);
    assert.deepEqual(
      Object.keys(plan),
      ['eps', 'model', 'seed'],
      'how-to-run flags are not the plan',
    );
    const foreign = tempDir();
    writeFileSync(path.join(foreign, 'thesis.tex'), '…');
    await assert.rejects(
      claimOutDir(foreign, { command: 'eval', plan }),
      usage(
        /--out .* is not empty \(thesis\.tex\) and is not an advkit run's folder; pick another --out, or add --force/,
      ),
    );
    await claimOutDir(foreign, { command: 'eval', plan, force: true });

    const run = tempDir();
    await claimOutDir(run, { command: 'eval', plan });
    assert.equal(JSON.parse(readFileSync(path.join(run, RUN_FILE), 'utf8')).kind, 'advkit-run');
    writeFileSync(path.join(run, 'checkpoint.json'), '{}');
    await claimOutDir(run, { command: 'eval', plan }); // the same flags again
    const other = { ...plan, eps: [0.2] };
    await assert.rejects(
      claimOutDir(run, { command: 'eval', plan: other }),
      usage(
        /holds another advkit run \(--eps 0\.1,0\.3 there, 0\.2 here\); pick another --out, add --resume to continue it, or --force to replace it/,
      ),
    );
    await claimOutDir(run, { command: 'eval', plan: other, resume: true });
  });
});

describe('data, bounds and ε', () => {
  it('[0, 1] pixels under --bounds 0,255 are refused; data that uses its bounds passes', () => {
    const unit = Float32Array.from({ length: 100 }, (_, i) => i / 99);
    assert.throws(
      () => checkDataUsesBounds(unit, [0, 255], 'MNIST test'),
      usage(
        /--bounds 0,255 but every pixel of MNIST test lies in \[0, 1\] \(0\.39 % of the range\): the data is in other units; give the bounds the data uses \(e\.g\. --bounds 0,1\)/,
      ),
    );
    checkDataUsesBounds(unit, [0, 1], 'MNIST test');
    checkDataUsesBounds(
      unit.map((v) => v * 255),
      [0, 255],
      'scaled',
    );
    checkDataUsesBounds(new Float32Array(10), [0, 255], 'all black');
  });
  it('ε above the bounds’ range is refused (L∞: hi − lo; L2: range·√d)', () => {
    assert.throws(
      () => checkEpsilonsInRange([0.1, 1e9], 'linf', [0, 1], 784),
      usage(
        /--eps 1000000000 is larger than the bounds' range hi − lo = 1; ε is in pixel units of --bounds 0,1/,
      ),
    );
    checkEpsilonsInRange([1], 'linf', [0, 1], 784);
    checkEpsilonsInRange([27], 'l2', [0, 1], 784); // √784 = 28
    assert.throws(
      () => checkEpsilonsInRange([29], 'l2', [0, 1], 784),
      usage(/largest L2 distance inside the bounds, 28/),
    );
  });
  it('the minimal-ε search looks no further than the bounds allow', async () => {
    await setBackend('cpu');
    const net = tinyCnn();
    const plan = makePlan(net.model, { attacks: [{ name: 'fgsm' }], epsilons: [0.5, 1e9] }, 0, {});
    assert.equal(plan.minimal?.epsMax, 1, 'L∞ over [0, 1]: at most 1');
    net.dispose();
  });
});

test('a resume with a changed ε names the field and both values, briefly', () => {
  const fp = (epsilons: number[]) => ({
    modelChecksum: 'abc',
    dataSource: 'MNIST test',
    examples: 20,
    suite: JSON.stringify({
      attacks: [
        { name: 'fgsm', norm: 'linf', loss: 'ce', options: {} },
        { name: 'pgd', options: { steps: 10 } },
      ],
      epsilons,
      goal: { kind: 'untargeted' },
      norm: 'linf',
    }),
    seed: 0,
    batchSize: 8,
    minimalEpsilon: JSON.stringify({ epsMax: 0.3, grid: epsilons, bisectionSteps: 5 }),
    diagnostics: true,
    exampleImages: 8,
  });
  const saved = JSON.stringify({
    kind: 'advkit-evaluation-checkpoint',
    version: 1,
    fingerprint: fp([0.1, 0.3]),
  });
  assert.throws(
    () => restoreState(saved, fp([0.2, 0.3]), 'out/checkpoint.json'),
    (e: unknown) => {
      assert.ok(e instanceof AdvkitError && e.code === 'RESUME_MISMATCH', String(e));
      assert.equal(
        e.message,
        'checkpoint out/checkpoint.json was written by a different evaluation (suite.epsilons.0: checkpoint 0.1, this run 0.2; minimalEpsilon.grid.0: checkpoint 0.1, this run 0.2); use a new checkpoint path or delete it',
      );
      return true;
    },
  );
  assert.deepEqual(fieldDifferences({ a: [1, 2] }, { a: [1, 2, 3] }), [
    { field: 'a', was: '[1,2]', now: '[1,2,3]' },
  ]);
});

test('a multi-line error (TF.js loader reasons) is one line; the rest is behind --verbose', () => {
  const e = new LoadError(
    'MODEL_LOAD',
    'm.json is not a loadable TF.js layers-model: Unknown layer: Foo. This may be due to one of the following reasons:\n1. The layer is defined in Python.\n2. The custom layer is defined in JavaScript.',
  );
  assert.deepEqual(describeError(e), {
    line: 'm.json is not a loadable TF.js layers-model: Unknown layer: Foo. This may be due to one of the following reasons: (--verbose for the rest)',
    code: 2,
  });
});

describe('through the CLI: one line, exit 2', { concurrency: true }, () => {
  let model: string;
  let unknownLayer: string;
  before(async () => {
    await setBackend('cpu');
    const dir = tempDir();
    const net = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28, 1] }),
        tf.layers.dense({ units: 10, kernelInitializer: 'zeros' }),
      ],
    });
    await net.save(fileSaveHandler(path.join(dir, 'm')));
    net.dispose();
    model = path.join(dir, 'm', 'model.json');
    const json = JSON.parse(readFileSync(model, 'utf8'));
    json.modelTopology.config.layers[0].class_name = 'NoSuchLayer';
    mkdirSync(path.join(dir, 'bad'));
    unknownLayer = path.join(dir, 'bad', 'model.json');
    writeFileSync(unknownLayer, JSON.stringify(json));
    writeFileSync(
      path.join(dir, 'bad', 'weights.bin'),
      readFileSync(path.join(dir, 'm', 'weights.bin')),
    );
  });
  const evalArgs = (...extra: string[]) => [
    'eval',
    '--model',
    model,
    '--data',
    'mnist:test',
    '--limit',
    '4',
    '--attacks',
    'fgsm',
    '--backend',
    'cpu',
    ...extra,
  ];
  const cases: [string, () => string[], RegExp][] = [
    [
      '--out /proc/x',
      () => evalArgs('--out', '/proc/x'),
      /^advkit: error: --out \/proc\/x: cannot create/,
    ],
    [
      '--out naming a file',
      () => evalArgs('--out', model),
      /^advkit: error: --out .*model\.json is a file; expected a folder/,
    ],
    [
      '--seed 1e30',
      () => evalArgs('--seed', '1e30'),
      /--seed must be an integer from 0 to 4294967295 \(2³² − 1\); received "1e30"/,
    ],
    [
      '--bounds 0,255 over MNIST',
      () => evalArgs('--bounds', '0,255', '--out', tempDir()),
      /--bounds 0,255 but every pixel of .* lies in \[0, 1\]/,
    ],
    [
      '--eps 1e9',
      () => evalArgs('--eps', '1e9', '--out', tempDir()),
      /--eps 1000000000 is larger than the bounds' range/,
    ],
    [
      'train --eps 2 (MNIST is in [0, 1])',
      () => ['train', '--eps', '2', '--out', tempDir()],
      /--eps 2 is larger than the bounds' range hi − lo = 1/,
    ],
    [
      'train --resume without a checkpoint',
      () => ['train', '--resume', '--out', tempDir()],
      /--resume: there is no training checkpoint at .*checkpoint\.json; run without --resume first/,
    ],
  ];
  for (const [name, args, pattern] of cases) {
    it(name, async () => {
      const r = await cli(args());
      assert.equal(r.code, 2, `exit code; stderr:\n${r.stderr}`);
      assert.match(errorLine(r), pattern);
    });
  }
  it('a TF.js loader error: one line saying where the rest is; --verbose prints the rest', async () => {
    const r = await cli([...evalArgs('--model', unknownLayer, '--out', tempDir()), '--verbose']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^advkit: error: .*Unknown layer: NoSuchLayer.*\(--verbose for the rest\)\n.*Unknown layer: NoSuchLayer[\s\S]*\n/,
    );
    assert.ok(r.stderr.split('\n').length > 3, `more than the one line:\n${r.stderr}`);
  });
});

test('the next run first removes what a killed run left, and puts a folder set aside mid-swap back', async () => {
  const parent = tempDir();
  const dir = path.join(parent, 'run');
  const dead = 4194305; // above Linux's pid_max ceiling: never a running process
  mkdirSync(path.join(parent, `run.old-${dead}-abc`));
  writeFileSync(path.join(parent, `run.old-${dead}-abc`, 'report.json'), '{"gen": 1}');
  mkdirSync(path.join(parent, `run.tmp-${dead}-abc`));
  writeFileSync(path.join(parent, `run.tmp-${dead}-abc`, 'report.json'), '{"gen": 2, "half": ');
  await prepareOutDir(dir);
  assert.equal(
    readFileSync(path.join(dir, 'report.json'), 'utf8'),
    '{"gen": 1}',
    'the old set is back',
  );
  assert.deepEqual(readdirSync(parent), ['run'], 'the unfinished new set is gone');
});
