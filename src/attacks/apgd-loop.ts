/**
 * The APGD iteration shared by APGD and APGD-T (Croce & Hein, ICML 2020,
 * Algorithm 1), following the authors' reference code
 * (fra31/auto-attack, autoattack/autopgd_base.py) step for step:
 *
 *   z_{k+1} = Π(x_k + η·δ*(∇f(x_k)))
 *   x_{k+1} = Π(x_k + α(z_{k+1} − x_k) + (1 − α)(x_k − x_{k−1}))   α = 1 at k = 0, else 0.75
 *
 * At each checkpoint an example whose loss rose in at most ρ of the window's
 * steps, or whose step was not halved at the previous checkpoint and whose
 * best loss has not risen since, halves η and continues from its best point
 * x_best with the gradient stored there. As in the reference, x_{k−1} is
 * left as it was, so the next momentum term is x_best − x_{k−1}, not 0.
 *
 * Departures from the reference, all deliberate:
 * - the start is uniform in the ε-ball (`Norm.sampleBall`, per-example
 *   streams); the reference puts it on the ball's surface (L∞: ε times a
 *   uniform vector scaled to max-norm 1; L2: a Gaussian direction);
 * - the first window's first comparison is f(x_1) > f(x_0); the reference
 *   compares loss_steps[0] with loss_steps[−1], an unwritten row of zeros
 *   (an increase for CE, whose loss is positive, usually none for DLR);
 * - per example the FIRST misclassified iterate is kept (the reference
 *   keeps the last), else the highest-loss point (the reference returns
 *   the clean input), so a later restart never replaces a success and a
 *   batch equals its examples run one by one;
 * - restarts and target classes run on the examples not yet fooled, as in
 *   the reference, and are seeded by (seed, example index, round) instead
 *   of one global torch seed.
 */
import * as tf from '@tensorflow/tfjs';
import { objectiveGradient } from '../model/gradient.js';
import { clipToBounds } from '../threat-model/bounds.js';
import { type LossName, objective } from '../threat-model/losses.js';
import type { Norm } from '../threat-model/norms.js';
import type { AttackContext } from './fixed-epsilon.js';
import { BestSoFar, startPoint } from './gradient-loop.js';

export const APGD_MOMENTUM = 0.75;

/**
 * The iterations after which APGD checks its step size, as the reference
 * counts them: the first window is ⌊0.22N⌋, each later one 3 % of N
 * shorter, never below 6 % (all at least 1, fractions truncated as Python's
 * `int` does). N = 100 gives 22, 41, 57, 70, 80, 87, 93, 99.
 */
export function apgdCheckpoints(steps: number): number[] {
  const shrink = Math.max(Math.floor(0.03 * steps), 1);
  const shortest = Math.max(Math.floor(0.06 * steps), 1);
  const out: number[] = [];
  let window = Math.max(Math.floor(0.22 * steps), 1);
  for (let at = window; at <= steps; at += window) {
    out.push(at);
    window = Math.max(window - shrink, shortest);
  }
  return out;
}

export interface ApgdConfig {
  norm: Norm;
  eps: number;
  steps: number;
  rho: number;
  loss: LossName;
  restarts: number;
  /**
   * Gradient samples averaged per step (expectation over transformation, for
   * a model random at inference); the step's loss and logits are the last
   * sample's, as in the reference's eot_iter. Default 1.
   */
  eotSamples?: number;
}

/**
 * APGD over `rounds` (one per loss target; `undefined` targets the labels):
 * each round runs `restarts` times on the examples not yet fooled. Returns,
 * per example, the first successful iterate, else the highest-loss one.
 */
export async function apgdSearch(
  ctx: AttackContext,
  cfg: ApgdConfig,
  rounds: readonly (tf.Tensor1D | undefined)[],
): Promise<tf.Tensor4D> {
  const best = new BestSoFar(ctx.x.shape[0]);
  try {
    let round = 0;
    search: for (const lossTargets of rounds) {
      for (let r = 0; r < cfg.restarts; r++, round++) {
        const seedRound = round;
        await onUnsolved(ctx, best, lossTargets, (sub, subTargets, subBest) =>
          apgdRun(sub, cfg, seedRound, subTargets, subBest),
        );
        if (best.allSucceeded) break search;
      }
    }
    const out = best.x as tf.Tensor4D;
    best.x = undefined;
    return out;
  } finally {
    best.dispose();
  }
}

type Attempt = (
  ctx: AttackContext,
  lossTargets: tf.Tensor1D | undefined,
  best: BestSoFar,
) => Promise<void>;

/**
 * Run `attempt` on the examples `best` has not seen succeed, then merge what
 * it found into `best` exactly as offering its iterates one by one would
 * (a success, else a strictly higher loss). Which examples run depends only
 * on each example's own history, so batching changes nothing.
 */
async function onUnsolved(
  ctx: AttackContext,
  best: BestSoFar,
  lossTargets: tf.Tensor1D | undefined,
  attempt: Attempt,
): Promise<void> {
  const n = ctx.x.shape[0];
  const open: number[] = [];
  for (let i = 0; i < n; i++) if (!best.success[i]) open.push(i);
  if (open.length === n || best.x === undefined) return attempt(ctx, lossTargets, best);
  if (open.length === 0) return;
  const pick = (a: Int32Array) => Int32Array.from(open, (i) => a[i]);
  const idx = tf.tensor1d(open, 'int32');
  const sub: AttackContext = {
    ...ctx,
    x: tf.gather(ctx.x, idx),
    labels: pick(ctx.labels),
    labelsT: tf.gather(ctx.labelsT, idx),
    targets: ctx.targets && pick(ctx.targets),
    targetsT: ctx.targetsT && tf.gather(ctx.targetsT, idx),
    indices: pick(ctx.indices),
  };
  const subTargets = lossTargets && tf.gather(lossTargets, idx);
  const subBest = new BestSoFar(open.length);
  try {
    await attempt(sub, subTargets, subBest);
    const at = new Int32Array(n);
    const take = new Uint8Array(n);
    for (const [j, i] of open.entries()) {
      at[i] = j;
      if (subBest.success[j] || subBest.score[j] > best.score[i]) {
        take[i] = 1;
        best.success[i] = subBest.success[j];
        best.score[i] = subBest.score[j];
      }
    }
    const prev = best.x;
    best.x = tf.tidy(() => {
      const mask = tf.broadcastTo(tf.tensor1d(take, 'bool').reshape([n, 1, 1, 1]), prev.shape);
      return tf.where(mask, tf.gather(subBest.x as tf.Tensor4D, tf.tensor1d(at, 'int32')), prev);
    }) as tf.Tensor4D;
    prev.dispose();
  } finally {
    tf.dispose([idx, sub.x, sub.labelsT, ...(sub.targetsT ? [sub.targetsT] : [])]);
    subTargets?.dispose();
    subBest.dispose();
  }
}

/** A [n, 1, 1, 1] tensor of per-example values, to broadcast over images. */
function perExample(values: ArrayLike<number>, n: number, dtype: 'float32' | 'bool'): tf.Tensor {
  return tf.tensor1d(Array.from(values), dtype).reshape([n, 1, 1, 1]);
}

/** `where(mask[i], a, b)` per example; disposes `b`. */
function replaceWhere(mask: Uint8Array, a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  const out = tf.tidy(() =>
    tf.where(tf.broadcastTo(perExample(mask, mask.length, 'bool'), b.shape), a, b),
  ) as tf.Tensor4D;
  b.dispose();
  return out;
}

/** The loss and gradient at `xk`, with `xk` offered to `best`. */
async function evaluate(
  ctx: AttackContext,
  loss: LossName,
  lossTargets: tf.Tensor1D | undefined,
  best: BestSoFar,
  xk: tf.Tensor4D,
  eotSamples = 1,
): Promise<{ f: Float32Array; grad: tf.Tensor4D }> {
  let sum: tf.Tensor4D | undefined;
  for (let s = 1; s < eotSamples; s++) {
    const extra = objectiveGradient(ctx.attacker, xk, ctx.labelsT, loss, lossTargets);
    const prev = sum;
    sum = prev ? (tf.add(prev, extra.grad) as tf.Tensor4D) : tf.clone(extra.grad);
    prev?.dispose();
    extra.dispose();
  }
  const g = objectiveGradient(ctx.attacker, xk, ctx.labelsT, loss, lossTargets);
  try {
    if (ctx.attacker === ctx.model) {
      await best.update(ctx, xk, g.logits, g.objective);
    } else {
      // A surrogate's gradient; success and score come from the attacked model.
      const [z, s] = tf.tidy(() => {
        const logits = ctx.model.logits(xk);
        return [logits, objective(loss, logits, ctx.labelsT, lossTargets)];
      });
      await best.update(ctx, xk, z, s);
      tf.dispose([z, s]);
    }
    const f = Float32Array.from((await g.objective.data()) as Float32Array);
    const grad = sum
      ? (tf.tidy(() => tf.div(tf.add(sum as tf.Tensor4D, g.grad), eotSamples)) as tf.Tensor4D)
      : tf.clone(g.grad);
    return { f, grad };
  } finally {
    g.dispose();
    sum?.dispose();
  }
}

/** One APGD run from the start point of `round`, every iterate offered to `best`. */
async function apgdRun(
  ctx: AttackContext,
  cfg: ApgdConfig,
  round: number,
  lossTargets: tf.Tensor1D | undefined,
  best: BestSoFar,
): Promise<void> {
  const { norm, eps, steps } = cfg;
  const n = ctx.x.shape[0];
  const bounds = ctx.model.bounds;
  const project = (v: tf.Tensor) =>
    clipToBounds(norm.projectAround(v, ctx.x, eps), bounds) as tf.Tensor4D;
  const shrink = Math.max(Math.floor(0.03 * steps), 1);
  const shortest = Math.max(Math.floor(0.06 * steps), 1);
  let window = Math.max(Math.floor(0.22 * steps), 1);
  let sinceCheck = 0;

  let xk = startPoint(ctx, { start: { kind: 'uniform' }, norm, eps }, round);
  let xPrev = tf.clone(xk);
  let xBest = tf.clone(xk);
  let grad: tf.Tensor4D | undefined;
  let gradBest: tf.Tensor4D | undefined;
  try {
    const first = await evaluate(ctx, cfg.loss, lossTargets, best, xk, cfg.eotSamples);
    grad = first.grad;
    gradBest = tf.clone(grad);
    const fBest = Float64Array.from(first.f);
    let fLast = first.f;
    const eta = new Float64Array(n).fill(2 * eps);
    const increases = new Int32Array(n);
    // The reference starts as if every example had just halved its step, so
    // the first checkpoint halves only on the ρ test.
    let reducedLast = new Uint8Array(n).fill(1);
    let fBestAtCheck = Float64Array.from(fBest);
    for (let k = 0; k < steps; k++) {
      const a = k === 0 ? 1 : APGD_MOMENTUM;
      const g = grad;
      const xPrevK = xPrev;
      const xCur = xk;
      const next = tf.tidy(() => {
        const z = project(tf.add(xCur, tf.mul(norm.steepest(g), perExample(eta, n, 'float32'))));
        if (k === 0) return z;
        return project(
          tf.add(tf.add(xCur, tf.mul(tf.sub(z, xCur), a)), tf.mul(tf.sub(xCur, xPrevK), 1 - a)),
        );
      });
      xPrev.dispose();
      xPrev = xk;
      xk = next;
      grad.dispose();
      grad = undefined;
      const step = await evaluate(ctx, cfg.loss, lossTargets, best, xk, cfg.eotSamples);
      grad = step.grad;
      const f = step.f;
      const improved = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        if (f[i] > fLast[i]) increases[i] += 1;
        if (f[i] > fBest[i]) {
          fBest[i] = f[i];
          improved[i] = 1;
        }
      }
      fLast = f;
      if (improved.some((v) => v === 1)) {
        xBest = replaceWhere(improved, xk, xBest);
        gradBest = replaceWhere(improved, grad, gradBest);
      }
      sinceCheck += 1;
      if (sinceCheck < window) continue;
      const reduce = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const oscillating = increases[i] <= cfg.rho * window;
        const stuck = !reducedLast[i] && fBestAtCheck[i] >= fBest[i];
        if (oscillating || stuck) {
          reduce[i] = 1;
          eta[i] /= 2;
        }
      }
      reducedLast = reduce;
      fBestAtCheck = Float64Array.from(fBest);
      increases.fill(0);
      sinceCheck = 0;
      window = Math.max(window - shrink, shortest);
      if (reduce.some((v) => v === 1)) {
        xk = replaceWhere(reduce, xBest, xk);
        grad = replaceWhere(reduce, gradBest, grad);
      }
    }
  } finally {
    tf.dispose([xk, xPrev, xBest, ...(grad ? [grad] : []), ...(gradBest ? [gradBest] : [])]);
  }
}
