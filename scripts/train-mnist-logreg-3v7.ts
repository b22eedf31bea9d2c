/**
 * models/mnist-logreg-3v7: logistic regression on MNIST 3s and 7s
 * (Goodfellow et al. 2015 Fig. 2) as two logits, class 0 = "3", class 1 = "7"
 * (softmax over two logits is the logistic model of their difference);
 * trained on the training 3s and 7s only, ≈ 1.4 % clean error on the test 3s
 * and 7s.
 *
 *   node --import tsx scripts/train-mnist-logreg-3v7.ts [--epochs 5] [--seed 0] [--backend wasm|cpu] [--out dir]
 */
import { isMain, parseTrainFlags, type ShippedModel, trainShipped } from './train-common.js';
import { linearModel } from './train-mnist-softmax.js';

export const mnistLogreg3v7: ShippedModel = {
  name: 'mnist-logreg-3v7',
  architecture: 'logistic regression: fc 2 on the 784 pixels (logits for "3", "7")',
  digits: [3, 7],
  build: () => linearModel('mnist-logreg-3v7', 2),
  epochs: 5,
  lr: 5e-3,
  schedule: 'constant',
  batchSize: 128,
  minAccuracy: 0.97,
};

if (isMain(import.meta.url)) await trainShipped(mnistLogreg3v7, parseTrainFlags());
