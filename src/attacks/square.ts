/**
 * Square — a score-based black-box attack by random search: it only queries
 * the model's logits (never a gradient), proposes a change confined to a
 * random square window and keeps it when the margin loss improves. Works on
 * any model that can be queried, including ones whose gradient is masked.
 *
 * Paper: Andriushchenko, Croce, Flammarion & Hein, "Square Attack: a
 * query-efficient black-box adversarial attack via random search", ECCV 2020.
 * Norm: L∞ (vertical-stripe start; each proposal sets one square to x ± ε per
 * channel) or L2 (the paper's window update, moving norm from a second window
 * into the first).
 *
 * Options (defaults): norm 'linf', queries 5000 (model queries per example
 * and restart, the start included), pInit 0.8 (fraction of the image the
 * first squares cover; AutoAttack's value for both norms), restarts 1,
 * rescaleSchedule true (the p schedule's breakpoints, given for 10,000
 * iterations, stretched to `queries` as in the reference class; AutoAttack
 * passes false), loss 'cw' (the margin; 'ce' or 'dlr' also work, success is
 * always judged by the margin). An example stops being queried as soon as
 * it is adversarial; `result.queries` counts its model queries, the clean
 * check included. Targeted calls use the target's margin over the best other
 * class. Inputs: images in the model's bounds.
 *
 *   const square = new Square({ norm: 'linf', queries: 5000 });
 *   const [r] = await square.run(model, { x, labels, seed: 0 }, [0.3]); // r.queries
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';
import { type LossName, objective } from '../threat-model/losses.js';
import type { NormName } from '../threat-model/norms.js';
import { exampleRng, Stream } from '../threat-model/rng.js';
import type { AttackContext, Perturbed } from './fixed-epsilon.js';
import { checkQueryAttackOptions, FixedEpsilonAttack } from './fixed-epsilon.js';
import {
  type ImageGeometry,
  l2Propose,
  l2Side,
  l2Start,
  linfPropose,
  linfSide,
  linfStart,
  squareFraction,
} from './square-windows.js';
import { checkPositive } from './step-size.js';
import type { AttackDescription } from './types.js';

export interface SquareOptions {
  /** 'linf' (default) or 'l2'; 'l1' is refused (UNKNOWN_NORM). */
  norm?: NormName;
  /** Loss the random search lowers: 'cw' margin (default), 'ce' or 'dlr'. */
  loss?: LossName;
  /** Model queries per example and restart, the start included. Default 5000. */
  queries?: number;
  /** Initial fraction of pixels a square covers, in (0, 1]. Default 0.8. */
  pInit?: number;
  /** Independent runs for examples still not adversarial. Default 1. */
  restarts?: number;
  /** Stretch the 10,000-iteration p schedule to `queries`. Default true. */
  rescaleSchedule?: boolean;
}

export class Square extends FixedEpsilonAttack {
  readonly name = 'square';
  protected override readonly needsGradient = false;
  readonly queries: number;
  readonly pInit: number;
  readonly restarts: number;
  readonly rescaleSchedule: boolean;

  constructor(options: SquareOptions = {}) {
    checkQueryAttackOptions('Square', options);
    super({ ...options, loss: options.loss ?? 'cw' }, [
      'queries',
      'pInit',
      'restarts',
      'rescaleSchedule',
    ] satisfies (keyof SquareOptions)[]);
    checkPositive(options.queries, 'queries', true);
    checkPositive(options.restarts, 'restarts', true);
    this.queries = options.queries ?? 5000;
    this.restarts = options.restarts ?? 1;
    this.pInit = options.pInit ?? 0.8;
    if (!(this.pInit > 0 && this.pInit <= 1)) {
      throw new InputError('INVALID_OPTION', `pInit must be in (0, 1]; received ${options.pInit}`);
    }
    this.rescaleSchedule = options.rescaleSchedule ?? true;
  }

  protected async perturb(ctx: AttackContext, eps: number): Promise<Perturbed> {
    const [n, h, w, c] = ctx.x.shape;
    const d = h * w * c;
    const g: ImageGeometry = { h, w, c, lo: ctx.model.bounds[0], hi: ctx.model.bounds[1] };
    const x = Float32Array.from(await ctx.x.data());
    const row = (a: Float32Array, k: number) => a.subarray(k * d, (k + 1) * d);
    const best = Float32Array.from(x);
    const all = Array.from({ length: n }, (_, i) => i);
    const clean = await this.query(ctx, all, x, d);
    const queries = new Array<number>(n).fill(1);
    // Per example over restarts: adversarial yet, and the best loss so far.
    const done = Uint8Array.from(clean.success);
    const bestLoss = Float64Array.from(clean.loss);

    const start = this.norm === 'linf' ? linfStart : l2Start;
    const propose = this.norm === 'linf' ? linfPropose : l2Propose;
    const side = this.norm === 'linf' ? linfSide : l2Side;
    for (let round = 0; round < this.restarts; round++) {
      let active = all.filter((i) => !done[i]);
      if (active.length === 0) break;
      const rngs = active.map((i) => exampleRng(ctx.seed, ctx.indices[i], Stream.noise, round));
      // The run's current point per active example, packed in `active` order.
      let cur = new Float32Array(active.length * d);
      active.forEach((i, k) => {
        start(row(x, i), row(cur, k), eps, g, rngs[k]);
      });
      let { loss: curLoss, success: curSuccess } = await this.query(ctx, active, cur, d);
      for (const i of active) queries[i] += 1;
      for (let it = 0; it < this.queries - 1; it++) {
        if (curSuccess.includes(1)) {
          // Adversarial examples leave the batch: no further queries for them.
          const keep: number[] = [];
          active.forEach((i, k) => {
            if (!curSuccess[k]) {
              keep.push(k);
              return;
            }
            best.set(row(cur, k), i * d);
            done[i] = 1;
          });
          const packed = new Float32Array(keep.length * d);
          keep.forEach((k, j) => {
            packed.set(row(cur, k), j * d);
          });
          cur = packed;
          curLoss = Float64Array.from(keep, (k) => curLoss[k]);
          curSuccess = new Uint8Array(keep.length);
          active = keep.map((k) => active[k]);
          keep.forEach((k, j) => {
            rngs[j] = rngs[k];
          });
          rngs.length = keep.length;
        }
        if (active.length === 0) break;
        const s = side(squareFraction(it, this.queries, this.pInit, this.rescaleSchedule), g);
        const cand = Float32Array.from(cur);
        active.forEach((i, k) => {
          propose(row(x, i), row(cand, k), eps, s, g, rngs[k]);
        });
        const q = await this.query(ctx, active, cand, d);
        active.forEach((i, k) => {
          queries[i] += 1;
          // The reference's rule: keep a proposal that lowers the loss or is adversarial.
          if (q.success[k] || q.loss[k] > curLoss[k]) {
            cur.set(row(cand, k), k * d);
            curLoss[k] = q.loss[k];
            curSuccess[k] = q.success[k];
          }
        });
      }
      active.forEach((i, k) => {
        if (curSuccess[k] || curLoss[k] > bestLoss[i]) {
          best.set(row(cur, k), i * d);
          bestLoss[i] = curLoss[k];
          if (curSuccess[k]) done[i] = 1;
        }
      });
    }
    return { xAdv: tf.tensor4d(best, [n, h, w, c]), queries };
  }

  /**
   * One batched query of `points`, the images of examples `rows` packed in
   * that order: the attack's objective per row (larger is better) and
   * whether the row is adversarial (margin > 0, as the judge's argmax).
   */
  private async query(
    ctx: AttackContext,
    rows: number[],
    points: Float32Array,
    d: number,
  ): Promise<{ loss: Float64Array; success: Uint8Array }> {
    const m = rows.length;
    const [h, w, c] = ctx.x.shape.slice(1);
    const out = tf.tidy(() => {
      const xs = tf.tensor4d(points.subarray(0, m * d), [m, h, w, c]);
      const idx = tf.tensor1d(rows, 'int32');
      const labels = tf.gather(ctx.labelsT, idx) as tf.Tensor1D;
      const targets = ctx.targetsT ? (tf.gather(ctx.targetsT, idx) as tf.Tensor1D) : undefined;
      const z = ctx.model.logits(xs);
      const margin = objective('cw', z, labels, targets);
      const loss = this.loss === 'cw' ? margin : objective(this.loss, z, labels, targets);
      return tf.stack([loss, margin]);
    });
    const v = (await out.data()) as Float32Array;
    out.dispose();
    const loss = Float64Array.from(v.subarray(0, m));
    const success = Uint8Array.from(v.subarray(m, 2 * m), (mv) => (mv > 0 ? 1 : 0));
    return { loss, success };
  }

  describe(): AttackDescription {
    return {
      name: this.name,
      paper: 'Andriushchenko et al., ECCV 2020',
      ...this.baseDescription(),
      clipping: 'ε-ball, then bounds, in every proposal',
      options: {
        queries: this.queries,
        pInit: this.pInit,
        restarts: this.restarts,
        rescaleSchedule: this.rescaleSchedule,
        gradient: 'none (logits only)',
        kept: 'per example: the first adversarial point, else the lowest loss over restarts',
      },
    };
  }
}
