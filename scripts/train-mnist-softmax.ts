/**
 * models/mnist-softmax: softmax regression, one fc 10 layer on the 784 pixels
 * (logits), Goodfellow et al. 2015 §4's shallow softmax baseline; ≈ 92 %
 * clean test accuracy after 5 epochs of Adam.
 *
 *   node --import tsx scripts/train-mnist-softmax.ts [--epochs 5] [--seed 0] [--backend wasm|cpu] [--out dir]
 */
import * as tf from '@tensorflow/tfjs';
import { isMain, parseTrainFlags, type ShippedModel, trainShipped } from './train-common.js';

/** fc `units` on the flattened 28×28×1 image, zero-initialised (a convex problem). */
export function linearModel(name: string, units: number): tf.Sequential {
  return tf.sequential({
    name,
    layers: [
      tf.layers.flatten({ name: 'flatten', inputShape: [28, 28, 1] }),
      tf.layers.dense({ name: 'logits', units, kernelInitializer: tf.initializers.zeros() }),
    ],
  });
}

export const mnistSoftmax: ShippedModel = {
  name: 'mnist-softmax',
  architecture: 'softmax regression: fc 10 on the 784 pixels (logits)',
  build: () => linearModel('mnist-softmax', 10),
  epochs: 5,
  lr: 5e-3,
  schedule: 'constant',
  batchSize: 128,
  minAccuracy: 0.91,
};

if (isMain(import.meta.url)) await trainShipped(mnistSoftmax, parseTrainFlags());
