/**
 * Gradient of `FusedBatchNorm`, replacing TF.js's: y = (x − μ)·r·γ + β with
 * r = 1/√(σ² + ε).
 *
 * - It broadcasts the per-channel factor instead of `tile`-ing it to the
 *   input's shape (the stock x-gradient builds a full-size tiled copy).
 * - It works without a scale γ (Keras `scale: false`, e.g. InceptionV3). The
 *   stock config lists 'scale' in `inputsToSave`, and the engine then tries to
 *   clone an input that is not there and throws. Here the list drops absent
 *   inputs when the engine maps over it, so the saved list is [x, μ, σ², γ]
 *   or [x, μ, σ²] and γ is present exactly when a fourth tensor was saved.
 */
import * as tf from '@tensorflow/tfjs';

/** ['x', 'mean', 'variance', 'scale'], mapping only to inputs that exist. */
function presentInputs(names: string[]): string[] {
  const list = [...names];
  Object.defineProperty(list, 'map', {
    enumerable: false,
    value<U>(fn: (name: string, i: number, all: string[]) => U): U[] {
      return Array.prototype.map.call(list, fn).filter((t) => t != null) as U[];
    },
  });
  return list;
}

function reductionAxes(mean: tf.Tensor, x: tf.Tensor): number[] {
  if (mean.rank === 1) return Array.from({ length: x.rank - 1 }, (_, i) => i);
  return tf.backend_util.getReductionAxes(mean.shape, x.shape);
}

export const batchNormGradConfig: tf.GradConfig = {
  kernelName: tf.FusedBatchNorm,
  inputsToSave: presentInputs(['x', 'mean', 'variance', 'scale']),
  gradFunc: (dy, saved, attrs) => {
    const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor?];
    const eps = (attrs as unknown as { varianceEpsilon: number }).varianceEpsilon;
    const g = dy as tf.Tensor;
    const axes = reductionAxes(mean, x);
    const perChannel = (t: tf.Tensor) =>
      tf.reshape(axes.length > 0 ? tf.sum(t, axes) : t, mean.shape);
    const r = () => tf.rsqrt(tf.add(variance, eps));
    const factor = () => (scale == null ? r() : tf.mul(r(), scale));
    const gScaled = () => (scale == null ? g : tf.mul(g, scale));
    return {
      x: () => tf.reshape(tf.mul(g, factor()), x.shape),
      mean: () => perChannel(tf.neg(tf.mul(g, factor()))),
      variance: () => {
        const rv = r();
        const minusHalfR3 = tf.mul(tf.mul(tf.mul(rv, rv), rv), -0.5);
        return perChannel(tf.mul(tf.mul(gScaled(), tf.sub(x, mean)), minusHalfR3));
      },
      scale: () => perChannel(tf.mul(g, tf.mul(tf.sub(x, mean), r()))),
      offset: () => perChannel(g),
    };
  },
};
