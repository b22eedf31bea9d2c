/**
 * Preprocessing that is part of the model: applied inside the differentiable
 * path, so gradients are taken with respect to pixel-space inputs and the
 * ε budget stays in pixel space.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';

export interface Normalization {
  /** Per-channel mean, in pixel units (same scale as the bounds). */
  mean: readonly number[];
  /** Per-channel standard deviation, in pixel units. */
  std: readonly number[];
}

export interface CustomPreprocess {
  /** Name shown in reports ("gradient path"). */
  name: string;
  /** Differentiable map from pixel space to the network's input. */
  fn: (x: tf.Tensor4D) => tf.Tensor4D;
}

export type Preprocess = Normalization | CustomPreprocess;

export interface PreparedPreprocess {
  apply(x: tf.Tensor4D): tf.Tensor4D;
  /**
   * The vector-Jacobian product `dy · ∂apply/∂x`, where it is known in
   * closed form (undefined for custom preprocessing: autodiff is used).
   */
  backward?(dy: tf.Tensor4D): tf.Tensor4D;
  description: string;
  dispose(): void;
}

/** Mean/std normalisation, as opposed to a custom function. */
export function isNormalization(p: Preprocess): p is Normalization {
  return 'mean' in p && 'std' in p;
}

export function preparePreprocess(p: Preprocess | undefined, channels: number): PreparedPreprocess {
  if (!p)
    return {
      apply: (x) => x,
      description: 'none (the network sees pixel-space inputs)',
      dispose() {},
    };
  if (!isNormalization(p)) {
    if (typeof p.fn !== 'function') {
      throw new InputError(
        'INVALID_OPTION',
        'preprocess.fn must be a function (x: Tensor4D) => Tensor4D',
      );
    }
    return {
      apply: p.fn,
      description: `custom preprocessing "${p.name}", differentiated through`,
      dispose() {},
    };
  }
  const expand = (v: readonly number[], what: string): number[] => {
    if (v.length === 1) return new Array(channels).fill(v[0]);
    if (v.length !== channels) {
      throw new InputError(
        'INVALID_OPTION',
        `preprocess.${what} has ${v.length} values; the model has ${channels} channels (give 1 or ${channels})`,
      );
    }
    return [...v];
  };
  const mean = expand(p.mean, 'mean');
  const std = expand(p.std, 'std');
  if (!mean.every(Number.isFinite) || !std.every((s) => Number.isFinite(s) && s > 0)) {
    throw new InputError(
      'INVALID_OPTION',
      `preprocess mean must be finite and std positive; received mean [${mean}] std [${std}]`,
    );
  }
  const meanT = tf.keep(tf.tensor1d(mean));
  const invStdT = tf.keep(tf.tensor1d(std.map((s) => 1 / s)));
  return {
    apply: (x) => tf.mul(tf.sub(x, meanT), invStdT),
    // A per-channel affine map: its Jacobian is diagonal, 1/std.
    backward: (dy) => tf.mul(dy, invStdT),
    description: `(x − mean) / std per channel with mean [${mean.join(', ')}], std [${std.join(', ')}], differentiated through`,
    dispose() {
      meanT.dispose();
      invStdT.dispose();
    },
  };
}
