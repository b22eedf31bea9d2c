/**
 * Small seeded models and a synthetic, learnable data set for the training
 * tests: 8×8 grey images whose class (0..3) is the bright quadrant.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../../src/index.js';
import type { TrainingData } from '../../src/train/index.js';

export function quadrants(n: number, seed: number): TrainingData & { labels: Int32Array } {
  const rng = createRng(seed);
  const images = new Float32Array(n * 64);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = i % 4;
    labels[i] = y;
    for (let r = 0; r < 8; r++) {
      for (let c = 0; c < 8; c++) {
        const q = (r < 4 ? 0 : 2) + (c < 4 ? 0 : 1);
        const base = q === y ? 0.7 : 0.2;
        images[i * 64 + r * 8 + c] = Math.min(1, Math.max(0, base + 0.2 * (rng.next() - 0.5)));
      }
    }
  }
  return { images, labels };
}

/** conv 4 3×3 → relu → flatten → dense 4, seeded so two builds are identical. */
export function tinyNet(seed = 1): tf.Sequential {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 10 + k });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [8, 8, 1],
        filters: 4,
        kernelSize: 3,
        strides: 2,
        activation: 'relu',
        kernelInitializer: init(1),
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 4, kernelInitializer: init(2) }),
    ],
  });
}

export async function weightsOf(model: tf.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.getWeights().map(async (w) => new Float32Array(await w.data())));
}
