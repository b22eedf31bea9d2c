/**
 * Small deterministic models and inputs shared by the tests.
 */
import * as tf from '@tensorflow/tfjs';
import { Classifier, type ClassifierOptions, createRng } from '../src/index.js';

export function seededTensor(shape: number[], seed: number, lo = 0, hi = 1): tf.Tensor {
  const rng = createRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * rng.next();
  return tf.tensor(data, shape);
}

/**
 * A tiny conv net with fixed seeded weights (conv 3×3 → relu → maxpool →
 * dense), written with plain ops so its logits are a pure function of x.
 */
export function tinyCnn(
  options: ClassifierOptions & { channels?: number; classes?: number; size?: number } = {},
): {
  model: Classifier;
  dispose(): void;
} {
  const { channels: c = 1, classes: k = 4, size: s = 8, ...classifierOptions } = options;
  const w1 = tf.keep(seededTensor([3, 3, c, 4], 11, -0.6, 0.6)) as tf.Tensor4D;
  const b1 = tf.keep(seededTensor([4], 12, -0.1, 0.1));
  const feat = (s / 2) * (s / 2) * 4;
  const w2 = tf.keep(seededTensor([feat, k], 13, -0.5, 0.5)) as tf.Tensor2D;
  const b2 = tf.keep(seededTensor([k], 14, -0.1, 0.1));
  const net = (x: tf.Tensor4D) =>
    tf.tidy(() => {
      const h = tf.relu(tf.add(tf.conv2d(x, w1, 1, 'same'), b1)) as tf.Tensor4D;
      const p = tf.maxPool(h, 2, 2, 'valid');
      return tf.add(tf.matMul(p.reshape([x.shape[0], feat]), w2), b2);
    });
  const model = Classifier.create(net, { inputShape: [s, s, c], ...classifierOptions });
  return {
    model,
    dispose() {
      model.dispose();
      tf.dispose([w1, b1, w2, b2]);
    },
  };
}

/** A linear classifier z = W·flatten(x) + b with given weights. */
export function linearModel(
  weights: number[][],
  bias: number[],
  inputShape: [number, number, number],
  options: ClassifierOptions = {},
): { model: Classifier; dispose(): void } {
  const d = inputShape[0] * inputShape[1] * inputShape[2];
  const W = tf.keep(tf.tensor2d(weights.flat(), [weights.length, d]).transpose()) as tf.Tensor2D;
  const b = tf.keep(tf.tensor1d(bias));
  const net = (x: tf.Tensor4D) =>
    tf.tidy(() => tf.add(tf.matMul(x.reshape([x.shape[0], d]), W), b));
  const model = Classifier.create(net, { inputShape, ...options });
  return {
    model,
    dispose() {
      model.dispose();
      tf.dispose([W, b]);
    },
  };
}

/**
 * A masked gradient: the input is rounded to {0, 1} before a linear score
 * Σ w_i·round(x_i) − 8 with seeded signs w_i = ±1 (class 1 when positive).
 * round's gradient is zero, so every gradient step is zero and gradient
 * attacks cannot move, while Square (queries only) can; on x = 0.3 with
 * ε = 0.25 a pixel rounds to 1 only when pushed above 0.5.
 */
export function roundedModel(): { model: Classifier; dispose(): void } {
  const rng = createRng(5);
  const w = tf.keep(tf.tensor1d(Array.from({ length: 64 }, () => (rng.next() < 0.5 ? -1 : 1))));
  const net = (xs: tf.Tensor4D) =>
    tf.tidy(() => {
      const score = tf.sub(tf.sum(tf.mul(tf.round(xs.reshape([xs.shape[0], 64])), w), 1), 8);
      return tf.stack([tf.neg(score), score], 1);
    });
  const model = Classifier.create(net, { inputShape: [8, 8, 1] });
  return {
    model,
    dispose: () => {
      model.dispose();
      w.dispose();
    },
  };
}
