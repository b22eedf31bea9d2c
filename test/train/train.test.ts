/**
 * adversarialTrain end to end on a tiny learnable problem: the adversarial
 * loss falls, every method runs, resuming from a checkpoint reproduces the
 * uninterrupted run bit for bit, a step leaks no tensors, and the saved model
 * loads back as a standard TF.js model.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { Classifier, setBackend } from '../../src/index.js';
import { fileLoadHandler } from '../../src/model/io-node.js';
import { gatherBatch } from '../../src/train/batch.js';
import { fileCheckpointStore } from '../../src/train/checkpoint-node.js';
import {
  type AdversarialTrainOptions,
  adversarialTrain,
  type Checkpoint,
  resolveOptions,
  type TrainingCheckpointStore,
  TrainOptimizer,
  trainingAttack,
} from '../../src/train/index.js';
import { saveModelFiles, trainRun } from '../../src/train/run-node.js';
import { trainStep } from '../../src/train/step.js';
import { quadrants, tinyNet, weightsOf } from './helpers.js';

const data = quadrants(96, 1);
const heldOut = quadrants(32, 2);
let dir: string;

before(async () => {
  await setBackend();
  dir = await mkdtemp(join(tmpdir(), 'advkit-train-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const base: AdversarialTrainOptions = {
  method: 'fgsm-rs',
  eps: 0.1,
  epochs: 3,
  batchSize: 16,
  lr: 0.02,
  seed: 7,
  heldOut: { data: heldOut, steps: 3 },
};

test('FGSM-RS training lowers the adversarial loss and logs every epoch', async () => {
  const model = tinyNet();
  const batches: number[] = [];
  const result = await adversarialTrain(model, data, {
    ...base,
    onBatch: (b) => batches.push(b.batch),
  });
  assert.equal(result.stopped, 'completed');
  assert.equal(result.history.length, 3);
  assert.equal(batches.length, 3 * 6);
  const [first, , last] = result.history;
  assert.ok(
    (last.advTrainLoss ?? 0) < (first.advTrainLoss ?? 0) - 0.1,
    `adversarial loss ${first.advTrainLoss} → ${last.advTrainLoss}`,
  );
  assert.ok(last.cleanTrainAccuracy > first.cleanTrainAccuracy, 'clean accuracy rises');
  for (const h of result.history) {
    assert.ok(
      h.heldOutPgdAccuracy !== null && h.heldOutCleanAccuracy !== null,
      'h.heldOutPgdAccuracy !== null && h.heldOutCleanAccuracy !== null',
    );
    assert.ok(
      h.heldOutPgdAccuracy <= h.heldOutCleanAccuracy,
      'h.heldOutPgdAccuracy <= h.heldOutCleanAccuracy',
    );
    assert.ok(h.seconds > 0 && h.lrStart > 0, 'h.seconds > 0 && h.lrStart > 0');
    assert.equal(h.overfit.overfit, false);
  }
  // Cyclic schedule: the rate rises until 2/5 of training, then falls to 0.
  assert.ok(
    result.history[0].lrEnd > result.history[0].lrStart,
    'result.history[0].lrEnd > result.history[0].lrStart',
  );
  assert.equal(last.lrEnd, 0);
  assert.ok(result.best && result.best.epoch >= 1, 'result.best && result.best.epoch >= 1');
  model.dispose();
});

test('every method and label choice trains; standard training has no adversarial columns', async () => {
  for (const extra of [
    { method: 'standard' as const, eps: undefined, heldOut: undefined },
    { method: 'fgsm' as const },
    { method: 'pgd' as const, pgdSteps: 2 },
    { method: 'fgsm-rs' as const, attackLabel: 'predicted' as const },
    { method: 'fgsm-rs' as const, randomStart: false, alpha: 0.2, optimizer: 'sgd' as const },
  ]) {
    const model = tinyNet();
    const result = await adversarialTrain(model, data, { ...base, epochs: 1, ...extra });
    const [h] = result.history;
    assert.equal(result.history.length, 1, extra.method);
    if (extra.method === 'standard') {
      assert.equal(h.advTrainAccuracy, null);
      assert.equal(h.heldOutPgdAccuracy, null);
    } else {
      assert.ok(h.advTrainLoss !== null && Number.isFinite(h.advTrainLoss), extra.method);
      assert.ok((h.advTrainAccuracy ?? 2) <= 1, '(h.advTrainAccuracy ?? 2) <= 1');
    }
    model.dispose();
  }
});

test('the detector is wired in: a firing verdict is logged, reported and stops the run on request', async () => {
  const model = tinyNet();
  // Thresholds that make any epoch look overfit, to exercise the plumbing.
  const overfit = { maxGap: -1, minTrainAdvAccuracy: 0 };
  const result = await adversarialTrain(model, data, {
    ...base,
    overfit,
    earlyStopOnOverfit: true,
  });
  assert.equal(result.stopped, 'overfit');
  assert.equal(result.history.length, 1);
  assert.equal(result.overfitWarnings.length, 1);
  assert.equal(result.history[0].overfit.overfit, true);
  assert.match(result.overfitWarnings[0].reasons[0], /above held-out PGD accuracy/);
  model.dispose();
});

/** A store in memory that can also count saves. */
function memoryStore(): TrainingCheckpointStore & { saves: number } {
  let latest: Checkpoint | undefined;
  let best: Checkpoint | undefined;
  return {
    saves: 0,
    async load() {
      return latest;
    },
    async save(c) {
      this.saves++;
      latest = { meta: structuredClone(c.meta), data: c.data.slice(0) };
    },
    async saveBest(c) {
      best = { meta: structuredClone(c.meta), data: c.data.slice(0) };
    },
    async loadBest() {
      return best;
    },
  };
}

test('resuming from a checkpoint reproduces the uninterrupted run exactly', async () => {
  const opts: AdversarialTrainOptions = { ...base, restoreBest: false };
  const whole = tinyNet(3);
  const full = await adversarialTrain(whole, data, opts);
  const want = await weightsOf(whole);

  for (const store of [memoryStore(), fileCheckpointStore(join(dir, 'resume'))]) {
    const first = tinyNet(3);
    const stop = new AbortController();
    const part = await adversarialTrain(first, data, {
      ...opts,
      checkpoint: store,
      signal: stop.signal,
      onEpoch: (r) => {
        if (r.epoch === 1) stop.abort();
      },
    });
    assert.equal(part.stopped, 'aborted');
    assert.equal(part.history.length, 1);
    first.dispose();

    // A fresh process would rebuild the model from scratch (other initial weights).
    const second = tinyNet(99);
    const rest = await adversarialTrain(second, data, { ...opts, checkpoint: store });
    assert.equal(rest.resumedFrom, 1);
    assert.equal(rest.history.length, 3);
    const got = await weightsOf(second);
    assert.deepEqual(got, want);
    assert.deepEqual(
      rest.history.map((h) => h.advTrainLoss),
      full.history.map((h) => h.advTrainLoss),
    );
    second.dispose();
  }
  const files = (await readdir(join(dir, 'resume'))).sort();
  assert.deepEqual(files, ['best-3.bin', 'best.json', 'checkpoint-3.bin', 'checkpoint.json']);
  whole.dispose();
});

test('resuming with different options is refused with RESUME_MISMATCH', async () => {
  const store = fileCheckpointStore(join(dir, 'mismatch'));
  const m = tinyNet();
  await adversarialTrain(m, data, { ...base, epochs: 1, checkpoint: store });
  await assert.rejects(
    adversarialTrain(m, data, { ...base, epochs: 1, eps: 0.2, checkpoint: store }),
    (e: unknown) =>
      (e as { code?: string }).code === 'RESUME_MISMATCH' &&
      /eps: 0\.1 there, 0\.2 now/.test(String(e)),
  );
  // A damaged data file is caught by its checksum.
  const ptr = JSON.parse(await readFile(join(dir, 'mismatch', 'checkpoint.json'), 'utf8'));
  ptr.sha256 = '0'.repeat(64);
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(dir, 'mismatch', 'checkpoint.json'), JSON.stringify(ptr));
  await assert.rejects(store.load(), (e: unknown) => (e as { code?: string }).code === 'DATA_LOAD');
  m.dispose();
});

test('a training step and a whole run leave no tensors behind', async () => {
  const model = tinyNet();
  const r = resolveOptions({ ...base, method: 'fgsm', attackLabel: 'predicted' });
  const evalModel = Classifier.create(model, { mode: 'eval' });
  const trainModel = Classifier.create(model, { mode: 'train' });
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = new TrainOptimizer('adam', vars);
  const ctx = {
    evalModel,
    craftModel: evalModel,
    trainModel,
    attack: trainingAttack(r),
    vars,
    optimizer,
    options: r,
  };
  const batch = gatherBatch(data, Int32Array.from([0, 1, 2, 3, 4, 5]), [8, 8, 1]);
  await trainStep(ctx, batch, 0.01, 1); // warm-up: lazily created kernels and constants
  const before = tf.memory().numTensors;
  const s = await trainStep(ctx, batch, 0.01, 2);
  assert.equal(tf.memory().numTensors, before);
  assert.ok(Number.isFinite(s.loss), 'Number.isFinite(s.loss)');
  batch.x.dispose();
  optimizer.dispose();
  evalModel.dispose();
  trainModel.dispose();

  const start = tf.memory().numTensors;
  await adversarialTrain(model, data, { ...base, epochs: 1, method: 'pgd', pgdSteps: 2 });
  assert.equal(tf.memory().numTensors, start);
  model.dispose();
});

test('the saved model loads back as a standard TF.js layers model', async () => {
  const model = tinyNet();
  const out = join(dir, 'saved');
  const checksum = await saveModelFiles(model, out);
  assert.match(checksum, /^[0-9a-f]{64}$/);
  const loaded = await tf.loadLayersModel(fileLoadHandler(join(out, 'model.json')));
  const a = await weightsOf(model);
  const b = await weightsOf(loaded);
  assert.deepEqual(b, a);
  model.dispose();
  loaded.dispose();
});

test('a training run writes the model, report.json and report.html with curves', async () => {
  const out = join(dir, 'run');
  const report = await trainRun(tinyNet(), {
    train: data,
    trainName: 'quadrants',
    test: heldOut,
    attackLimit: 8,
    evaluation: { pgdSteps: 2, pgdRestarts: 2, pgdStepSize: 0.05 },
    out,
    training: { ...base, epochs: 2 },
  });
  const files = (await readdir(out)).sort();
  assert.deepEqual(files, [
    'checkpoints',
    'model.json',
    'report.html',
    'report.json',
    'weights.bin',
  ]);
  assert.deepEqual(
    report.evaluation?.rows.map((r) => [r.attack, r.examples]),
    [
      ['none', 32],
      ['fgsm', 8],
      ['pgd', 8],
    ],
  );
  const html = await readFile(join(out, 'report.html'), 'utf8');
  assert.equal((html.match(/<svg/g) ?? []).length, 2);
  assert.match(html, /PGD-2, step 0\.05, 2 restarts/);
  const saved = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
  assert.equal(saved.result.history.length, 2);
});
