/**
 * models/mnist-cnn: a small CNN, conv 32 3×3 relu → max-pool 2 → conv 64 3×3
 * relu → max-pool 2 → fc 128 relu → fc 10 logits (≈ 225k parameters, 0.9 MB),
 * trained 5 epochs with one-cycle Adam (≈ 99.3 % clean test accuracy). The
 * max pools give attacks a max-pool gradient to go through.
 *
 *   node --import tsx scripts/train-mnist-cnn.ts [--epochs 5] [--seed 0] [--backend wasm|cpu] [--out dir]
 */
import * as tf from '@tensorflow/tfjs';
import {
  glorot,
  isMain,
  parseTrainFlags,
  type ShippedModel,
  trainShipped,
} from './train-common.js';

export const mnistCnn: ShippedModel = {
  name: 'mnist-cnn',
  architecture:
    'conv 32 3×3 relu → max-pool 2 → conv 64 3×3 relu → max-pool 2 → fc 128 relu → fc 10 (logits)',
  build: (seed) =>
    tf.sequential({
      name: 'mnist-cnn',
      layers: [
        tf.layers.conv2d({
          name: 'conv1',
          inputShape: [28, 28, 1],
          filters: 32,
          kernelSize: 3,
          activation: 'relu',
          kernelInitializer: glorot(seed, 1),
        }),
        tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }),
        tf.layers.conv2d({
          name: 'conv2',
          filters: 64,
          kernelSize: 3,
          activation: 'relu',
          kernelInitializer: glorot(seed, 2),
        }),
        tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }),
        tf.layers.flatten({ name: 'flatten' }),
        tf.layers.dense({
          name: 'fc1',
          units: 128,
          activation: 'relu',
          kernelInitializer: glorot(seed, 3),
        }),
        tf.layers.dense({ name: 'logits', units: 10, kernelInitializer: glorot(seed, 4) }),
      ],
    }),
  epochs: 5,
  lr: 3e-3,
  schedule: 'cyclic',
  batchSize: 128,
  minAccuracy: 0.988,
};

if (isMain(import.meta.url)) await trainShipped(mnistCnn, parseTrainFlags());
