/**
 * Noise — the additive-noise baseline: random perturbations of the full
 * budget, no gradient and no search. It queries only the model's logits, so
 * it runs on query-only models; a model that falls to it has no robustness
 * worth measuring with stronger attacks, and one that resists it but not
 * PGD shows the budget is reachable only by looking for it.
 *
 * After Foolbox's `LinfAdditiveUniformNoiseAttack` and
 * `L2AdditiveGaussianNoiseAttack` with repeats (Rauber, Brendel & Bethge,
 * "Foolbox: A Python toolbox to benchmark the robustness of machine learning
 * models", 2017).
 * Norm: L∞ (u uniform in [−1, 1]^d, δ = ε·u/‖u‖∞: a point on the ε-box) or
 * L2 (g standard normal, δ = ε·g/‖g‖₂: a uniform direction on the ε-sphere);
 * 'l1' is refused (UNKNOWN_NORM). x + δ is clipped to the bounds, so
 * ‖δ‖ ≤ ε after clipping.
 *
 * Options (defaults): norm 'linf', restarts 10 (draws per example), loss
 * 'cw' (the margin; 'ce' or 'dlr' also work) ranking the draws when none is
 * adversarial. Per example the first adversarial draw is kept (the example
 * is then queried no more), else the draw with the highest loss; success is
 * judged by the margin, targeted calls by the target's margin. Draws are
 * seeded per example by (seed, index), the same direction at every ε.
 * `result.queries` counts the model queries per example.
 *
 *   const noise = new Noise({ norm: 'l2', restarts: 20 });
 *   const [r] = await noise.run(model, { x, labels, seed: 0 }, [1.0]); // r.queries
 */
import * as tf from '@tensorflow/tfjs';
import { type LossName, objective } from '../threat-model/losses.js';
import type { NormName } from '../threat-model/norms.js';
import { exampleRng, type Rng, Stream } from '../threat-model/rng.js';
import {
  type AttackContext,
  checkQueryAttackOptions,
  FixedEpsilonAttack,
  type Perturbed,
} from './fixed-epsilon.js';
import { checkPositive } from './step-size.js';
import type { AttackDescription } from './types.js';

export interface NoiseOptions {
  /** 'linf' (default) or 'l2'; 'l1' is refused (UNKNOWN_NORM). */
  norm?: NormName;
  /** Ranks the draws when none is adversarial: 'cw' margin (default), 'ce' or 'dlr'. */
  loss?: LossName;
  /** Random draws per example. Default 10. */
  restarts?: number;
}

/** One draw of δ with the given norm equal to ε, written into `out`. */
function draw(norm: NormName, out: Float32Array, eps: number, rng: Rng): void {
  let size = 0;
  for (let j = 0; j < out.length; j++) {
    const v = norm === 'linf' ? 2 * rng.next() - 1 : rng.normal();
    out[j] = v;
    size = norm === 'linf' ? Math.max(size, Math.abs(v)) : size + v * v;
  }
  if (norm === 'l2') size = Math.sqrt(size);
  const scale = size > 0 ? eps / size : 0;
  for (let j = 0; j < out.length; j++) out[j] *= scale;
}

export class Noise extends FixedEpsilonAttack {
  readonly name = 'noise';
  protected override readonly needsGradient = false;
  readonly restarts: number;

  constructor(options: NoiseOptions = {}) {
    checkQueryAttackOptions('Noise', options);
    super({ ...options, loss: options.loss ?? 'cw' }, [
      'restarts',
    ] satisfies (keyof NoiseOptions)[]);
    checkPositive(options.restarts, 'restarts', true);
    this.restarts = options.restarts ?? 10;
  }

  protected async perturb(ctx: AttackContext, eps: number): Promise<Perturbed> {
    const [n, h, w, c] = ctx.x.shape;
    const d = h * w * c;
    const [lo, hi] = ctx.model.bounds;
    const x = await ctx.x.data();
    const best = Float32Array.from(x);
    const bestLoss = new Float64Array(n).fill(-Infinity);
    const done = new Uint8Array(n);
    const queries = new Array<number>(n).fill(0);
    const rngs = Array.from({ length: n }, (_, i) =>
      exampleRng(ctx.seed, ctx.indices[i], Stream.noise),
    );
    const delta = new Float32Array(d);
    for (let round = 0; round < this.restarts; round++) {
      const active = Array.from({ length: n }, (_, i) => i).filter((i) => !done[i]);
      if (active.length === 0) break;
      const points = new Float32Array(active.length * d);
      active.forEach((i, k) => {
        draw(this.norm, delta, eps, rngs[i]);
        for (let j = 0; j < d; j++) {
          points[k * d + j] = Math.min(hi, Math.max(lo, x[i * d + j] + delta[j]));
        }
      });
      const q = await this.query(ctx, active, points, [active.length, h, w, c]);
      active.forEach((i, k) => {
        queries[i] += 1;
        if (q.success[k] || q.loss[k] > bestLoss[i]) {
          best.set(points.subarray(k * d, (k + 1) * d), i * d);
          bestLoss[i] = q.loss[k];
          if (q.success[k]) done[i] = 1;
        }
      });
    }
    return { xAdv: tf.tensor4d(best, [n, h, w, c]), queries };
  }

  /** The loss per row of `points` (examples `rows`) and whether it is adversarial (margin > 0). */
  private async query(
    ctx: AttackContext,
    rows: number[],
    points: Float32Array,
    shape: [number, number, number, number],
  ): Promise<{ loss: Float32Array; success: Uint8Array }> {
    const m = rows.length;
    const out = tf.tidy(() => {
      const idx = tf.tensor1d(rows, 'int32');
      const labels = tf.gather(ctx.labelsT, idx) as tf.Tensor1D;
      const targets = ctx.targetsT ? (tf.gather(ctx.targetsT, idx) as tf.Tensor1D) : undefined;
      const z = ctx.model.logits(tf.tensor4d(points, shape));
      const margin = objective('cw', z, labels, targets);
      const loss = this.loss === 'cw' ? margin : objective(this.loss, z, labels, targets);
      return tf.stack([loss, margin]);
    });
    const v = (await out.data()) as Float32Array;
    out.dispose();
    return {
      loss: v.slice(0, m),
      success: Uint8Array.from(v.subarray(m, 2 * m), (mv) => (mv > 0 ? 1 : 0)),
    };
  }

  describe(): AttackDescription {
    return {
      name: this.name,
      paper: 'additive-noise baseline (Foolbox, Rauber et al. 2017)',
      ...this.baseDescription(),
      clipping: 'bounds (each draw has norm ε)',
      options: {
        restarts: this.restarts,
        draw:
          this.norm === 'linf'
            ? 'uniform in [−1, 1]^d scaled to ‖δ‖∞ = ε'
            : 'Gaussian direction scaled to ‖δ‖₂ = ε',
        gradient: 'none (logits only)',
        kept: 'per example: the first adversarial draw, else the highest loss',
      },
    };
  }
}
