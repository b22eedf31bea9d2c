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
 * - On wasm, scaling by a per-channel factor is a 1×1 depthwise convolution,
 *   one multi-threaded XNNPACK pass, twice as fast as a broadcast multiply.
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

/** `g · f` with `f` per channel (rank 1, the last axis of `g`) or broadcast. */
function scaleChannels(g: tf.Tensor, f: tf.Tensor): tf.Tensor {
  const c = g.shape[g.rank - 1];
  if (tf.getBackend() !== 'wasm' || f.rank !== 1 || f.shape[0] !== c || g.rank === 0)
    return tf.mul(g, f);
  const rows = g.size / c;
  const y = tf.depthwiseConv2d(
    tf.reshape(g, [1, 1, rows, c]) as tf.Tensor4D,
    tf.reshape(f, [1, 1, c, 1]) as tf.Tensor4D,
    1,
    'valid',
  );
  return tf.reshape(y, g.shape);
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
      x: () => tf.reshape(scaleChannels(g, factor()), x.shape),
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
