/**
 * One gradient loop for the whole FGSM family. FGSM, FGSM-RS, R+FGSM, BIM,
 * PGD and MI-FGSM are presets of it: they differ only in the start, the
 * number of steps, the step size, the step rule (plain or momentum) and
 * whether the best iterate is kept.
 *
 *   x₀ = start(x)                       (none, uniform in the ball, or α·δ*(noise))
 *   x_{k+1} = clip(Π_ε(x_k + α·δ*(d_k)))   d_k = ∇L(x_k), or momentum of it
 */
import * as tf from '@tensorflow/tfjs';
import { objectiveGradient } from '../model/gradient.js';
import { clipToBounds } from '../threat-model/bounds.js';
import { objective } from '../threat-model/losses.js';
import type { Norm } from '../threat-model/norms.js';
import { exampleRng, type Rng, Stream } from '../threat-model/rng.js';
import type { AttackContext } from './fixed-epsilon.js';

export type StartRule =
  | { kind: 'none' }
  /** Uniform sample of the ε-ball (PGD, FGSM-RS). */
  | { kind: 'uniform' }
  /** x + α·δ*(N(0, I)): R+FGSM's sign-of-Gaussian step of size α. */
  | { kind: 'gaussian-step'; size: number };

export interface LoopConfig {
  norm: Norm;
  loss: 'ce' | 'cw' | 'dlr';
  eps: number;
  steps: number;
  stepSize: number;
  start: StartRule;
  restarts: number;
  /** MI-FGSM decay μ; undefined means plain gradient steps. */
  momentum?: number;
  /**
   * 'last' returns the final iterate (FGSM, BIM); 'best' keeps, per example,
   * the first successful iterate if any, else the one with the highest objective,
   * over all iterates and restarts (PGD, MI-FGSM).
   */
  keep: 'last' | 'best';
}

/** Per-example noise drawn from each example's own stream. */
export function perExampleNoise(
  shape: readonly number[],
  ctx: Pick<AttackContext, 'seed' | 'indices'>,
  round: number,
  sample: (d: number, rng: Rng) => Float32Array,
): tf.Tensor {
  const [n, ...rest] = shape;
  const d = rest.reduce((a, b) => a * b, 1);
  const buf = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    buf.set(sample(d, exampleRng(ctx.seed, ctx.indices[i], Stream.start, round)), i * d);
  }
  return tf.tensor(buf, [...shape]);
}

export function startPoint(
  ctx: AttackContext,
  cfg: Pick<LoopConfig, 'start' | 'norm' | 'eps'>,
  round: number,
): tf.Tensor4D {
  const { x } = ctx;
  const bounds = ctx.model.bounds;
  switch (cfg.start.kind) {
    case 'none':
      return tf.clone(x);
    case 'uniform': {
      const noise = perExampleNoise(x.shape, ctx, round, (d, rng) =>
        cfg.norm.sampleBall(d, cfg.eps, rng),
      );
      const out = tf.tidy(() => clipToBounds(tf.add(x, noise), bounds) as tf.Tensor4D);
      noise.dispose();
      return out;
    }
    case 'gaussian-step': {
      const size = cfg.start.size;
      const noise = perExampleNoise(x.shape, ctx, round, (d, rng) => {
        const g = new Float32Array(d);
        for (let i = 0; i < d; i++) g[i] = rng.normal();
        return g;
      });
      const out = tf.tidy(
        () =>
          clipToBounds(tf.add(x, tf.mul(cfg.norm.steepest(noise), size)), bounds) as tf.Tensor4D,
      );
      noise.dispose();
      return out;
    }
  }
}

/** Best iterate so far, per example; owns its tensor. */
export class BestSoFar {
  x: tf.Tensor4D | undefined;
  score: Float32Array;
  success: Uint8Array;

  constructor(n: number) {
    this.score = new Float32Array(n).fill(Number.NEGATIVE_INFINITY);
    this.success = new Uint8Array(n);
  }

  get allSucceeded(): boolean {
    return this.success.every((s) => s === 1);
  }

  async update(
    ctx: AttackContext,
    cand: tf.Tensor4D,
    logits: tf.Tensor2D,
    score: tf.Tensor1D,
  ): Promise<void> {
    const pred = tf.tidy(() => tf.argMax(logits, 1));
    const [p, s] = await Promise.all([pred.data(), score.data()]);
    pred.dispose();
    const take = new Uint8Array(this.score.length);
    let any = false;
    for (let i = 0; i < take.length; i++) {
      const ok = ctx.targets ? p[i] === ctx.targets[i] : p[i] !== ctx.labels[i];
      // The first success is final: later iterates never replace it, so
      // whether other examples of the batch still run changes nothing.
      const better = !this.success[i] && (ok || s[i] > this.score[i]);
      if (better || this.x === undefined) {
        take[i] = 1;
        any = true;
        this.success[i] = ok ? 1 : 0;
        this.score[i] = s[i];
      }
    }
    if (!any) return;
    const prev = this.x;
    this.x = prev
      ? tf.tidy(() => {
          const mask = tf.tensor1d(take, 'bool').reshape([take.length, 1, 1, 1]);
          return tf.where(tf.broadcastTo(mask, cand.shape), cand, prev) as tf.Tensor4D;
        })
      : tf.clone(cand);
    prev?.dispose();
  }

  dispose(): void {
    this.x?.dispose();
  }
}

/** Judge `cand` on the attacked model and offer it to `best`. */
export async function offer(
  ctx: AttackContext,
  cfg: Pick<LoopConfig, 'loss'>,
  best: BestSoFar,
  cand: tf.Tensor4D,
): Promise<void> {
  const [z, s] = tf.tidy(() => {
    const logits = ctx.model.logits(cand);
    return [logits, objective(cfg.loss, logits, ctx.labelsT, ctx.targetsT)];
  });
  await best.update(ctx, cand, z, s);
  z.dispose();
  s.dispose();
}

/** Run the loop for one ε; returns a new tensor in the ε-ball and the bounds. */
export async function gradientLoop(ctx: AttackContext, cfg: LoopConfig): Promise<tf.Tensor4D> {
  const { x, attacker } = ctx;
  const bounds = ctx.model.bounds;
  const sameModel = attacker === ctx.model;
  const keepBest = cfg.keep === 'best' || cfg.restarts > 1;
  const best = new BestSoFar(x.shape[0]);
  let last: tf.Tensor4D | undefined;
  try {
    for (let round = 0; round < cfg.restarts; round++) {
      let xk = startPoint(ctx, cfg, round);
      let m: tf.Tensor | undefined;
      for (let k = 0; k < cfg.steps; k++) {
        const g = objectiveGradient(attacker, xk, ctx.labelsT, cfg.loss, ctx.targetsT);
        // The gradient pass already judged x_k when the attacker is the model.
        if (keepBest && sameModel) await best.update(ctx, xk, g.logits, g.objective);
        else if (keepBest) await offer(ctx, cfg, best, xk);
        let direction: tf.Tensor;
        if (cfg.momentum !== undefined) {
          const mu = cfg.momentum;
          const prev = m;
          m = tf.tidy(() => {
            // Dong et al. normalise each example's gradient by its L1 norm
            // before accumulating, so every step weighs the same.
            const l1 = tf.sum(tf.abs(g.grad.reshape([g.grad.shape[0], -1])), 1);
            const safe = tf.maximum(l1, 1e-12).reshape([-1, 1, 1, 1]);
            const normalised = tf.div(g.grad, safe);
            return prev ? tf.add(tf.mul(prev, mu), normalised) : normalised;
          });
          prev?.dispose();
          direction = cfg.norm.steepest(m);
        } else {
          direction = cfg.norm.steepest(g.grad);
        }
        const next = tf.tidy(
          () =>
            clipToBounds(
              cfg.norm.projectAround(tf.add(xk, tf.mul(direction, cfg.stepSize)), x, cfg.eps),
              bounds,
            ) as tf.Tensor4D,
        );
        direction.dispose();
        g.dispose();
        xk.dispose();
        xk = next;
      }
      m?.dispose();
      if (keepBest) {
        await offer(ctx, cfg, best, xk);
        xk.dispose();
        if (best.allSucceeded) break;
      } else {
        last?.dispose();
        last = xk;
      }
    }
    if (keepBest) {
      const out = best.x as tf.Tensor4D;
      best.x = undefined;
      return out;
    }
    const out = last as tf.Tensor4D;
    last = undefined;
    return out;
  } finally {
    best.dispose();
    last?.dispose();
  }
}
