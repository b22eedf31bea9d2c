/**
 * Central differences of one example's cross-entropy loss, for checking an
 * input gradient: every coordinate asked for, moved by ± h, goes through the
 * model in one batch (float32 loss noise is about 1e-7 / h).
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../../src/node.js';
import { crossEntropy } from '../../src/node.js';

export async function centralDifferences(
  model: Classifier,
  x: tf.Tensor4D,
  label: number,
  coords: readonly number[],
  h: number,
): Promise<Float64Array> {
  const base = await x.data();
  const d = base.length;
  const shifted = new Float32Array(2 * coords.length * d);
  coords.forEach((c, k) => {
    shifted.set(base, 2 * k * d);
    shifted.set(base, (2 * k + 1) * d);
    shifted[2 * k * d + c] += h;
    shifted[(2 * k + 1) * d + c] -= h;
  });
  const losses = tf.tidy(() =>
    crossEntropy(
      model.logits(tf.tensor4d(shifted, [2 * coords.length, ...x.shape.slice(1)] as never)),
      tf.fill([2 * coords.length], label, 'int32') as tf.Tensor1D,
    ).dataSync(),
  );
  return Float64Array.from(coords, (_, k) => (losses[2 * k] - losses[2 * k + 1]) / (2 * h));
}

/** The coordinates of the `count` largest |g|, largest first. */
export function largestCoordinates(grad: ArrayLike<number>, count: number): number[] {
  return Array.from({ length: grad.length }, (_, i) => i)
    .sort((a, b) => Math.abs(grad[b]) - Math.abs(grad[a]))
    .slice(0, count);
}
