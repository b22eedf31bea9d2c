/**
 * APGD — Auto-PGD, the gradient component of AutoAttack: PGD with momentum
 * 0.75 and a per-example step size that starts at 2ε and halves at
 * checkpoints where progress stalled, restarting from the best point found.
 *
 * Paper: Croce & Hein, "Reliable evaluation of adversarial robustness with an
 * ensemble of diverse parameter-free attacks", ICML 2020.
 * Norm: L∞ or L2 (the L1 variant of the paper is a different algorithm).
 *
 * Options (defaults): norm 'linf', loss 'ce' (APGD-CE; 'dlr' gives APGD-DLR,
 * 'cw' the margin), steps 100, restarts 1, rho 0.75 (fraction of steps that
 * must increase the loss between checkpoints), surrogate none. Per example
 * it keeps the first successful iterate, else the highest loss.
 *
 *   const [r] = await new APGD({ loss: 'dlr' }).run(model, { x, labels }, [8 / 255]);
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';
import { clipToBounds } from '../threat-model/bounds.js';
import { type AttackContext, type BaseOptions, FixedEpsilonAttack } from './fixed-epsilon.js';
import { objectiveGradient } from './gradient.js';
import { BestSoFar, offer, startPoint } from './gradient-loop.js';
import { checkPositive } from './step-size.js';
import type { AttackDescription } from './types.js';

export interface APGDOptions extends BaseOptions {
  steps?: number;
  restarts?: number;
  rho?: number;
}

const MOMENTUM = 0.75;

/** Iterations after which the step size may be halved: ⌈p_j·N⌉. */
export function apgdCheckpoints(steps: number): number[] {
  const p = [0, 0.22];
  while (p[p.length - 1] < 1) {
    const last = p[p.length - 1];
    p.push(last + Math.max(last - p[p.length - 2] - 0.03, 0.06));
  }
  return [...new Set(p.slice(1).map((pj) => Math.ceil(pj * steps)))].filter((w) => w < steps);
}

function perExample(values: ArrayLike<number> | ArrayLike<boolean>, n: number): tf.Tensor {
  return tf
    .tensor1d(Array.from(values as ArrayLike<number>, Number), 'float32')
    .reshape([n, 1, 1, 1]);
}

export class APGD extends FixedEpsilonAttack {
  readonly name = 'apgd';
  private readonly steps: number;
  private readonly restarts: number;
  private readonly rho: number;

  /** `ownKeys`: option names a subclass accepts beyond APGD's. */
  constructor(options: APGDOptions = {}, ownKeys: readonly string[] = []) {
    super(options, [...(['steps', 'restarts', 'rho'] satisfies (keyof APGDOptions)[]), ...ownKeys]);
    if (this.norm === 'l1') {
      throw new InputError('UNKNOWN_NORM', 'APGD supports the linf and l2 norms; use PGD for l1');
    }
    checkPositive(options.steps, 'steps', true);
    checkPositive(options.restarts, 'restarts', true);
    this.steps = options.steps ?? 100;
    this.restarts = options.restarts ?? 1;
    this.rho = options.rho ?? 0.75;
    if (!(this.rho > 0 && this.rho <= 1)) {
      throw new InputError('INVALID_OPTION', `rho must be in (0, 1]; received ${options.rho}`);
    }
  }

  protected async perturb(ctx: AttackContext, eps: number): Promise<tf.Tensor4D> {
    const n = ctx.x.shape[0];
    const norm = this.normImpl;
    const bounds = ctx.model.bounds;
    const project = (v: tf.Tensor) =>
      clipToBounds(norm.projectAround(v, ctx.x, eps), bounds) as tf.Tensor4D;
    const checkpoints = new Set(apgdCheckpoints(this.steps));
    const best = new BestSoFar(n);
    try {
      for (let round = 0; round < this.restarts; round++) {
        let xk = startPoint(ctx, { start: { kind: 'uniform' }, norm, eps }, round);
        let xPrev = tf.clone(xk);
        let xMax = tf.clone(xk);
        const fMax = new Float32Array(n).fill(Number.NEGATIVE_INFINITY);
        const fPrev = new Float32Array(n).fill(Number.NEGATIVE_INFINITY);
        const eta = new Float32Array(n).fill(2 * eps);
        const increases = new Float32Array(n);
        let etaAtCheck = Float32Array.from(eta);
        let fMaxAtCheck = Float32Array.from(fMax);
        let lastCheck = 0;
        for (let k = 0; k < this.steps; k++) {
          const g = objectiveGradient(ctx.attacker, xk, ctx.labelsT, this.loss, ctx.targetsT);
          if (ctx.attacker === ctx.model) await best.update(ctx, xk, g.logits, g.objective);
          else await offer(ctx, { loss: this.loss }, best, xk);
          const f = (await g.objective.data()) as Float32Array;
          const improved = new Uint8Array(n);
          for (let i = 0; i < n; i++) {
            if (k > 0 && f[i] > fPrev[i]) increases[i] += 1;
            fPrev[i] = f[i];
            if (f[i] > fMax[i]) {
              fMax[i] = f[i];
              improved[i] = 1;
            }
          }
          const oldMax = xMax;
          xMax = tf.tidy(() =>
            tf.where(
              tf.cast(tf.broadcastTo(perExample(improved, n), xk.shape), 'bool'),
              xk,
              oldMax,
            ),
          );
          oldMax.dispose();
          let next = tf.tidy(() => {
            const etaT = perExample(eta, n);
            const z = project(tf.add(xk, tf.mul(norm.steepest(g.grad), etaT)));
            if (k === 0) return z;
            return project(
              tf.add(
                tf.add(xk, tf.mul(tf.sub(z, xk), MOMENTUM)),
                tf.mul(tf.sub(xk, xPrev), 1 - MOMENTUM),
              ),
            );
          });
          g.dispose();
          if (checkpoints.has(k + 1)) {
            // Halve the step where fewer than ρ of the steps since the last
            // checkpoint raised the loss, or where neither the step nor the
            // best loss changed; those examples restart from their best point.
            const span = k + 1 - lastCheck;
            const reset = new Uint8Array(n);
            for (let i = 0; i < n; i++) {
              const stalled = increases[i] < this.rho * span;
              const unchanged = etaAtCheck[i] === eta[i] && fMaxAtCheck[i] === fMax[i];
              if (stalled || unchanged) {
                eta[i] /= 2;
                reset[i] = 1;
              }
            }
            increases.fill(0);
            etaAtCheck = Float32Array.from(eta);
            fMaxAtCheck = Float32Array.from(fMax);
            lastCheck = k + 1;
            const maskT = tf.tidy(() =>
              tf.cast(tf.broadcastTo(perExample(reset, n), xk.shape), 'bool'),
            );
            const [resetNext, resetCur] = tf.tidy(() => [
              tf.where(maskT, xMax, next),
              tf.where(maskT, xMax, xk),
            ]);
            maskT.dispose();
            next.dispose();
            next = resetNext as tf.Tensor4D;
            // Zero momentum for reset examples: their previous point is the best point.
            xk.dispose();
            xk = resetCur as tf.Tensor4D;
          }
          xPrev.dispose();
          xPrev = xk;
          xk = next;
        }
        await offer(ctx, { loss: this.loss }, best, xk);
        tf.dispose([xk, xPrev, xMax]);
        if (best.allSucceeded) break;
      }
      const out = best.x as tf.Tensor4D;
      best.x = undefined;
      return out;
    } finally {
      best.dispose();
    }
  }

  describe(): AttackDescription {
    return {
      name: this.name,
      paper: 'Croce & Hein, ICML 2020',
      ...this.baseDescription(),
      clipping: 'ε-ball, then bounds, after every step',
      options: {
        steps: this.steps,
        restarts: this.restarts,
        initialStepSize: '2ε',
        momentum: MOMENTUM,
        rho: this.rho,
        kept: 'per example: first success, else the highest loss',
      },
    };
  }
}
