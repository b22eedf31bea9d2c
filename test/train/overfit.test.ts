/**
 * The catastrophic-overfitting detector on constructed histories, and the
 * learning-rate schedules (pure functions).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  detectCatastrophicOverfitting,
  learningRate,
  type OverfitEpoch,
} from '../../src/train/index.js';

const h = (
  epoch: number,
  adv: number | null,
  loss: number | null,
  pgd: number | null,
): OverfitEpoch => ({
  epoch,
  advTrainAccuracy: adv,
  advTrainLoss: loss,
  heldOutPgdAccuracy: pgd,
});

// Wong et al.'s FGSM-RS on MNIST: training and held-out robustness rise together.
const healthy = [
  h(1, 0.3, 1.9, 0.25),
  h(2, 0.7, 0.9, 0.62),
  h(3, 0.86, 0.45, 0.8),
  h(4, 0.9, 0.33, 0.85),
  h(5, 0.92, 0.28, 0.84),
];

test('a healthy history never fires', () => {
  for (let k = 1; k <= healthy.length; k++) {
    const v = detectCatastrophicOverfitting(healthy.slice(0, k));
    assert.equal(v.overfit, false, `epoch ${k}: ${v.reasons.join('; ')}`);
    assert.deepEqual(v.reasons, []);
  }
  const v = detectCatastrophicOverfitting(healthy);
  assert.equal(v.bestEpoch, 4);
  assert.equal(v.bestPgdAccuracy, 0.85);
});

test('a collapse of held-out PGD accuracy while the training attack looks beaten fires', () => {
  // Epoch 6: FGSM training accuracy jumps to 98 % and its loss collapses,
  // while PGD accuracy falls from 85 % to 3 %.
  const collapsed = [...healthy, h(6, 0.98, 0.05, 0.03)];
  const v = detectCatastrophicOverfitting(collapsed);
  assert.equal(v.overfit, true);
  assert.equal(v.epoch, 6);
  assert.equal(v.bestEpoch, 4);
  assert.equal(v.reasons.length, 3);
  assert.match(v.reasons[0], /fell 82\.0 % below its best 85\.0 % \(epoch 4\)/);
  assert.match(v.reasons[1], /98\.0 % is 95\.0 % above held-out PGD accuracy 3\.0 %/);
  assert.match(v.reasons[2], /0\.280 → 0\.050/);
});

test('the gap rule fires without any earlier best (zero-start FGSM from epoch 1)', () => {
  const v = detectCatastrophicOverfitting([h(1, 0.95, 0.1, 0.01)]);
  assert.equal(v.overfit, true);
  assert.equal(v.reasons.length, 1);
});

test('a drop while the training attack also wins is divergence, not overfitting', () => {
  const v = detectCatastrophicOverfitting([...healthy, h(6, 0.2, 2.1, 0.1)]);
  assert.equal(v.overfit, false);
});

test('thresholds are configurable; missing measurements never fire', () => {
  const dip = [...healthy, h(6, 0.92, 0.3, 0.7)];
  assert.equal(detectCatastrophicOverfitting(dip).overfit, false);
  assert.equal(detectCatastrophicOverfitting(dip, { maxDrop: 0.1 }).overfit, true);
  assert.equal(detectCatastrophicOverfitting([h(1, null, null, 0.0)]).overfit, false);
  assert.equal(detectCatastrophicOverfitting([h(1, 0.99, 0.01, null)]).overfit, false);
  assert.equal(detectCatastrophicOverfitting([]).overfit, false);
});

test('cyclic schedule: 0 → peak at 2/5 of training → 0; multistep and constant', () => {
  assert.equal(learningRate('cyclic', 5e-3, 0, 10), 0);
  assert.equal(learningRate('cyclic', 5e-3, 2, 10), 2.5e-3);
  assert.equal(learningRate('cyclic', 5e-3, 4, 10), 5e-3);
  assert.ok(
    Math.abs(learningRate('cyclic', 5e-3, 7, 10) - 2.5e-3) < 1e-12,
    "Math.abs(learningRate('cyclic', 5e-3, 7, 10) - 2.5e-3) < 1e-12",
  );
  assert.equal(learningRate('cyclic', 5e-3, 10, 10), 0);
  assert.equal(learningRate('multistep', 0.1, 4.9, 10), 0.1);
  assert.ok(
    Math.abs(learningRate('multistep', 0.1, 5, 10) - 0.01) < 1e-12,
    "Math.abs(learningRate('multistep', 0.1, 5, 10) - 0.01) < 1e-12",
  );
  assert.ok(
    Math.abs(learningRate('multistep', 0.1, 8, 10) - 0.001) < 1e-12,
    "Math.abs(learningRate('multistep', 0.1, 8, 10) - 0.001) < 1e-12",
  );
  assert.equal(learningRate('constant', 0.3, 7, 10), 0.3);
});
