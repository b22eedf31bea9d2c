/**
 * Norms as data: each norm supplies the per-example distance, the dual-norm
 * steepest-ascent direction, the projection onto its ε-ball and a uniform
 * random start. Every attack is written once against this interface.
 *
 * All functions take batched tensors [n, ...] and treat each example as one
 * flat vector over all of its coordinates.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';
import type { Rng } from './rng.js';

export type NormName = 'linf' | 'l2' | 'l1';
export const NORM_NAMES: readonly NormName[] = ['linf', 'l2', 'l1'];

export interface Norm {
  readonly name: NormName;
  /** Human name for reports: "L∞", "L2", "L1". */
  readonly label: string;
  /** ‖v‖ per example, shape [n]. */
  distance(v: tf.Tensor): tf.Tensor1D;
  /**
   * δ* maximising gᵀδ over the unit ball: sign(g) (L∞), g/‖g‖₂ (L2), mass on
   * the largest |g_i| with ties split (L1). Zero gradient → zero step.
   */
  steepest(g: tf.Tensor): tf.Tensor;
  /**
   * The point of the ε-ball around `center` nearest to `x`. Points already
   * inside are returned bit-for-bit unchanged.
   */
  projectAround(x: tf.Tensor, center: tf.Tensor, eps: number): tf.Tensor;
  /** One example's uniform sample from the ε-ball, as a flat array of length d. */
  sampleBall(d: number, eps: number, rng: Rng): Float32Array;
}

function perExample(v: tf.Tensor): tf.Tensor2D {
  return v.reshape([v.shape[0], -1]);
}

/** Broadcastable [n, 1, 1, ...] view of a per-example value. */
function expandPerExample(s: tf.Tensor1D, rank: number): tf.Tensor {
  return s.reshape([s.shape[0], ...new Array(rank - 1).fill(1)]);
}

/** Scale δ = x − c by min(1, ε/‖δ‖), leaving in-ball points untouched. */
function projectByScaling(norm: Norm, x: tf.Tensor, center: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const delta = tf.sub(x, center);
    const d = norm.distance(delta);
    const inside = expandPerExample(tf.lessEqual(d, eps), x.rank);
    const factor = expandPerExample(tf.div(eps, tf.maximum(d, 1e-30)), x.rank);
    return tf.where(tf.broadcastTo(inside, x.shape), x, tf.add(center, tf.mul(delta, factor)));
  });
}

export const Linf: Norm = {
  name: 'linf',
  label: 'L∞',
  distance: (v) => tf.tidy(() => tf.max(tf.abs(perExample(v)), 1) as tf.Tensor1D),
  steepest: (g) => tf.sign(g),
  projectAround: (x, center, eps) =>
    tf.tidy(() => tf.minimum(tf.maximum(x, tf.sub(center, eps)), tf.add(center, eps))),
  sampleBall(d, eps, rng) {
    const out = new Float32Array(d);
    for (let i = 0; i < d; i++) out[i] = (2 * rng.next() - 1) * eps;
    return out;
  },
};

export const L2: Norm = {
  name: 'l2',
  label: 'L2',
  distance: (v) => tf.tidy(() => tf.sqrt(tf.sum(tf.square(perExample(v)), 1)) as tf.Tensor1D),
  steepest: (g) =>
    tf.tidy(() => {
      const n = L2.distance(g);
      // Division by a zero norm leaves the example unchanged (spec).
      const safe = tf.where(tf.greater(n, 0), n, tf.onesLike(n));
      return tf.div(g, expandPerExample(safe, g.rank));
    }),
  projectAround: (x, center, eps) => projectByScaling(L2, x, center, eps),
  sampleBall(d, eps, rng) {
    // Gaussian direction, radius ε·U^(1/d): uniform in the ball.
    const out = new Float32Array(d);
    let s = 0;
    for (let i = 0; i < d; i++) {
      const z = rng.normal();
      out[i] = z;
      s += z * z;
    }
    const r = (eps * rng.next() ** (1 / d)) / Math.sqrt(s || 1);
    for (let i = 0; i < d; i++) out[i] *= r;
    return out;
  },
};

export const L1: Norm = {
  name: 'l1',
  label: 'L1',
  distance: (v) => tf.tidy(() => tf.sum(tf.abs(perExample(v)), 1) as tf.Tensor1D),
  steepest: (g) =>
    tf.tidy(() => {
      const flat = perExample(g);
      const a = tf.abs(flat);
      const m = tf.max(a, 1, true);
      const isMax = tf.logicalAnd(tf.equal(a, m), tf.greater(m, 0));
      const mask = tf.cast(isMax, 'float32');
      const count = tf.maximum(tf.sum(mask, 1, true), 1);
      return tf.div(tf.mul(tf.sign(flat), mask), count).reshape(g.shape);
    }),
  projectAround: (x, center, eps) =>
    tf.tidy(() => {
      // Exact Euclidean projection onto the L1 ball (Duchi et al. 2008):
      // soft-threshold |δ| at θ chosen so that the result has norm ε.
      const delta = tf.sub(x, center);
      const flat = perExample(delta);
      const [n, d] = flat.shape;
      const a = tf.abs(flat);
      const sorted = tf.topk(a, d).values;
      const css = tf.cumsum(sorted, 1);
      const ranks = tf.range(1, d + 1, 1, 'float32').reshape([1, d]);
      const positive = tf.greater(tf.sub(sorted, tf.div(tf.sub(css, eps), ranks)), 0);
      const rho = tf.cast(tf.maximum(tf.sum(tf.cast(positive, 'float32'), 1), 1), 'int32');
      const idx = tf.stack([tf.range(0, n, 1, 'int32'), tf.sub(rho, tf.scalar(1, 'int32'))], 1);
      const cssAtRho = tf.gatherND(css, idx) as tf.Tensor1D;
      const theta = tf.div(tf.sub(cssAtRho, eps), tf.cast(rho, 'float32')).reshape([n, 1]);
      const shrunk = tf.mul(tf.sign(flat), tf.relu(tf.sub(a, theta)));
      const inside = tf.lessEqual(tf.sum(a, 1, true), eps);
      const projected = tf.add(center, shrunk.reshape(x.shape));
      return tf.where(
        tf.broadcastTo(expandPerExample(inside.reshape([n]) as tf.Tensor1D, x.rank), x.shape),
        x,
        projected,
      );
    }),
  sampleBall(d, eps, rng) {
    // d+1 exponentials normalised give a uniform point of the simplex;
    // dropping the last coordinate and adding random signs gives the L1 ball.
    const out = new Float32Array(d);
    let s = 0;
    for (let i = 0; i < d; i++) {
      const e = -Math.log(1 - rng.next());
      out[i] = e;
      s += e;
    }
    s += -Math.log(1 - rng.next());
    for (let i = 0; i < d; i++) out[i] = ((rng.next() < 0.5 ? -1 : 1) * eps * out[i]) / s;
    return out;
  },
};

const NORMS: Record<NormName, Norm> = { linf: Linf, l2: L2, l1: L1 };

export function getNorm(name: NormName | string): Norm {
  const key = String(name).toLowerCase().replace('∞', 'inf');
  const alias: Record<string, NormName> = {
    inf: 'linf',
    linf: 'linf',
    l2: 'l2',
    '2': 'l2',
    l1: 'l1',
    '1': 'l1',
  };
  const found = alias[key];
  if (!found) {
    throw new InputError(
      'UNKNOWN_NORM',
      `unknown norm ${JSON.stringify(name)}; expected one of linf, l2, l1`,
    );
  }
  return NORMS[found];
}
