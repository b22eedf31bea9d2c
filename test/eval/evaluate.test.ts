import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { fileCheckpoint } from '../../src/eval/checkpoint-node.js';
import {
  type EvaluateOptions,
  type EvaluationReport,
  evaluate,
  memoryCheckpoint,
  type ProgressEvent,
  SCHEMA_VERSION,
  type Suite,
} from '../../src/eval/index.js';
import { AdvkitError, targeted } from '../../src/index.js';
import { tinyCnn } from '../fixtures.js';
import { syntheticData } from './helpers.js';

let net: ReturnType<typeof tinyCnn>;
before(async () => {
  await setBackend();
  net = tinyCnn();
});
after(() => net.dispose());

// A small, fast suite: FGSM then a short PGD with restarts.
const suite: Suite = {
  epsilons: [0.1, 0, 0.05, 0.2],
  attacks: [{ name: 'fgsm' }, { name: 'pgd', options: { steps: 8, restarts: 2 } }],
};
const data = syntheticData(20, [8, 8, 1], 4);
const opts: EvaluateOptions = {
  batchSize: 8,
  seed: 3,
  exampleImages: 3,
  modelChecksum: 'test-checksum',
  minimalEpsilon: { bisectionSteps: 3 },
};

/** The report without the fields that record when and how long. */
function results(r: EvaluationReport): unknown {
  const { createdAt: _c, durationMs: _d, resumed: _r, checklist, ...rest } = r;
  return { ...rest, checklist: checklist.filter((c) => c.field !== 'Time taken') };
}

let reference: EvaluationReport;

test('evaluate on tinyCnn: every report field, labelled metrics, leak-free', async () => {
  const before = tf.memory().numTensors;
  const events: ProgressEvent[] = [];
  reference = await evaluate(net.model, data, suite, {
    ...opts,
    onProgress: (e) => events.push(e),
  });
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
  const r = reference;
  assert.equal(r.schemaVersion, SCHEMA_VERSION);
  assert.equal(r.advkitVersion, '0.1.0');
  assert.equal(r.backend, 'wasm');
  assert.equal(r.model.checksum, 'test-checksum');
  assert.equal(r.model.mode, 'eval');
  assert.deepEqual(r.threatModel.bounds, [0, 1]);
  assert.deepEqual(r.threatModel.epsilons, [0, 0.05, 0.1, 0.2], 'sorted');
  assert.equal(r.threatModel.goalDescription, 'untargeted');
  assert.equal(r.data.examples, 20);
  assert.equal(r.seed, 3);
  assert.deepEqual(
    r.attacks.map((a) => [a.name, a.role]),
    [
      ['fgsm', 'baseline'],
      ['pgd', 'stronger'],
    ],
  );
  const fields = r.checklist.map((c) => c.field);
  for (const f of [
    'Input scale',
    'Budget',
    'Goal',
    'Gradient path',
    'Clipping',
    'Model mode',
    'Seed',
    'Model checksum',
    'Subset',
    'Baselines',
    'Backend',
    'advkit version',
    'Time taken',
  ]) {
    assert.ok(fields.includes(f), `checklist has ${f}`);
  }
  assert.match(r.checklist.find((c) => c.field === 'Baselines')!.value, /pgd/);
  const correct = r.clean.accuracy.numerator;
  for (const a of r.attacks) {
    for (const e of a.results) {
      assert.equal(e.robustAccuracy.denominator, 20);
      assert.equal(e.successRate.denominator, correct);
      assert.equal(e.alreadyWrong, 20 - correct);
      assert.equal(e.examples.length, 20);
      // Robust + flipped = clean-correct, per the two definitions.
      assert.equal(e.robustAccuracy.numerator + e.successRate.numerator, correct);
      for (const x of e.examples)
        assert.ok(x.perturbation <= e.epsilon + 1e-6, 'x.perturbation <= e.epsilon + 1e-6');
    }
    assert.equal(a.results[0].successRate.numerator, 0, 'ε = 0 flips nothing');
  }
  assert.equal(r.curves.length, 2);
  assert.equal(r.minimalEpsilon.length, 2);
  for (const m of r.minimalEpsilon) {
    assert.equal(m.values.length, 20);
    for (const [i, v] of m.values.entries()) {
      const ex = r.attacks[0].results[0].examples[i];
      if (ex.cleanPrediction !== ex.label) assert.equal(v, 0);
      else if (v !== null) assert.ok(v > 0 && v <= 0.2, 'v > 0 && v <= 0.2');
    }
  }
  assert.ok(r.diagnostics, 'r.diagnostics');
  assert.equal(r.diagnostics.sanity.budgetViolations, 0);
  assert.equal(r.diagnostics.firstOrder.length, 3);
  assert.deepEqual(
    r.images.map((g) => [g.attack, g.epsilon, g.examples.length]),
    [
      ['fgsm', 0.2, 3],
      ['pgd', 0.2, 3],
    ],
  );
  assert.equal(r.images[0].examples[0].original.length, 64);
  assert.ok(!r.warnings.some((w) => w.severity === 'error'), JSON.stringify(r.warnings));
  assert.deepEqual(
    [...new Set(events.map((e) => e.phase))],
    ['clean', 'attack', 'minimal-epsilon', 'diagnostics', 'done'],
  );
  assert.equal(events.at(-1)?.examplesDone, 20);
});

test('seeded and deterministic: the same call gives the same results', async () => {
  const again = await evaluate(net.model, data, suite, opts);
  assert.deepEqual(results(again), results(reference));
  // Frozen numbers for seed 3 (tinyCnn, syntheticData(20, seed 5)).
  assert.deepEqual(
    reference.attacks.map((a) => a.results.map((e) => e.robustAccuracy.numerator)),
    FROZEN_ROBUST,
  );
});

test('an interrupted run resumes from its last finished batch with an identical report', async () => {
  const store = memoryCheckpoint();
  await assert.rejects(
    evaluate(net.model, data, suite, {
      ...opts,
      checkpoint: store,
      onProgress: (e) => {
        if (e.batch === 2 && e.phase === 'attack') throw new Error('interrupted');
      },
    }),
    /interrupted/,
  );
  assert.equal(JSON.parse(store.text!).batchesDone, 2);
  const seen: number[] = [];
  const resumed = await evaluate(net.model, data, suite, {
    ...opts,
    checkpoint: store,
    onProgress: (e) => seen.push(e.batch),
  });
  assert.equal(resumed.resumed, true);
  assert.ok(!seen.includes(0) && !seen.includes(1), 'finished batches are not rerun');
  assert.deepEqual(results(resumed), results(reference));
});

test('a checkpoint from another evaluation is refused with RESUME_MISMATCH', async () => {
  const store = memoryCheckpoint();
  await evaluate(
    net.model,
    data,
    { ...suite, attacks: [{ name: 'fgsm' }] },
    {
      ...opts,
      checkpoint: store,
    },
  );
  for (const change of [{ seed: 4 }, { modelChecksum: 'other' }] as EvaluateOptions[]) {
    await assert.rejects(
      evaluate(
        net.model,
        data,
        { ...suite, attacks: [{ name: 'fgsm' }] },
        {
          ...opts,
          ...change,
          checkpoint: store,
        },
      ),
      (e: unknown) => e instanceof AdvkitError && e.code === 'RESUME_MISMATCH',
    );
  }
  await assert.rejects(
    evaluate(net.model, data, suite, { ...opts, checkpoint: store }),
    (e: unknown) =>
      e instanceof AdvkitError && e.code === 'RESUME_MISMATCH' && /suite/.test(e.message),
  );
  await assert.rejects(
    evaluate(
      net.model,
      { ...data, source: 'other' },
      { ...suite, attacks: [{ name: 'fgsm' }] },
      {
        ...opts,
        checkpoint: store,
      },
    ),
    (e: unknown) => e instanceof AdvkitError && /dataSource/.test(e.message),
  );
});

test('file checkpoint: atomic writes, resume from disk', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'advkit-ckpt-'));
  try {
    const path = join(dir, 'run.json');
    const small: Suite = { epsilons: [0.1], attacks: [{ name: 'fgsm' }] };
    const o: EvaluateOptions = { batchSize: 8, minimalEpsilon: false, modelChecksum: 'c' };
    await assert.rejects(
      evaluate(net.model, data, small, {
        ...o,
        checkpoint: fileCheckpoint(path),
        onProgress: (e) => {
          if (e.batch === 1 && e.phase === 'clean') throw new Error('stop');
        },
      }),
      /stop/,
    );
    assert.deepEqual(await readdir(dir), ['run.json'], 'no temp files left');
    const resumed = await evaluate(net.model, data, small, {
      ...o,
      checkpoint: fileCheckpoint(path),
    });
    const fresh = await evaluate(net.model, data, small, o);
    assert.equal(resumed.resumed, true);
    assert.deepEqual(results(resumed), results(fresh));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('targeted goal: success is reaching the target, targets recorded', async () => {
  const r = await evaluate(
    net.model,
    data,
    { epsilons: [0.3], attacks: [{ name: 'fgsm' }], goal: targeted({ kind: 'fixed', target: 2 }) },
    { batchSize: 20, minimalEpsilon: false, modelChecksum: 'c' },
  );
  const res = r.attacks[0].results[0];
  assert.match(r.threatModel.goalDescription, /targeted/);
  for (const x of res.examples) {
    assert.equal(x.target, 2);
    assert.equal(x.success, x.adversarialPrediction === 2);
  }
  assert.equal(r.diagnostics?.firstOrder.length, 0, 'first-order check is for untargeted CE');
});

test('bad input: wrong shape, class count, options', async () => {
  await assert.rejects(
    evaluate(net.model, syntheticData(4, [4, 4, 1], 4), suite),
    (e: unknown) => e instanceof AdvkitError && e.code === 'INVALID_SHAPE',
  );
  await assert.rejects(
    evaluate(
      net.model,
      { ...data, labels: Int32Array.from(data.labels, (y, i) => (i === 0 ? 7 : y)) },
      suite,
    ),
    (e: unknown) =>
      e instanceof AdvkitError &&
      e.code === 'CLASS_COUNT_MISMATCH' &&
      /data\.labels\[0\] = 7 .*model outputs 4 classes/.test(e.message),
  );
  await assert.rejects(
    evaluate(net.model, data, suite, { batchSize: 0 }),
    (e: unknown) => e instanceof AdvkitError && /batchSize/.test(e.message),
  );
  await assert.rejects(
    evaluate(net.model, data, { epsilons: [-1] }),
    (e: unknown) => e instanceof AdvkitError && e.code === 'INVALID_OPTION',
  );
  await assert.rejects(
    evaluate(
      net.model,
      data,
      { ...suite, attacks: [{ name: 'fgsm' }] },
      {
        minimalEpsilon: { attacks: ['pgd'] },
      },
    ),
    (e: unknown) => e instanceof AdvkitError && /minimalEpsilon/.test(e.message),
  );
});

// Robust-accuracy numerators (of 20; 9 correct clean) per attack × ε = 0, 0.05, 0.1, 0.2.
const FROZEN_ROBUST = [
  [9, 3, 1, 1],
  [9, 3, 0, 0],
];
