/**
 * APGD — Auto-PGD, the gradient component of AutoAttack: PGD with momentum
 * 0.75 and a per-example step size that starts at 2ε and halves at
 * checkpoints where progress stalled, continuing from the best point found.
 *
 * Paper: Croce & Hein, "Reliable evaluation of adversarial robustness with an
 * ensemble of diverse parameter-free attacks", ICML 2020.
 * Norm: L∞ or L2 (the L1 variant of the paper is a different algorithm).
 *
 * Options (defaults): norm 'linf', loss 'ce' (APGD-CE; 'dlr' gives APGD-DLR,
 * 'cw' the margin), steps 100, restarts 1, rho 0.75 (a step is halved where
 * the loss rose in at most ρ of the steps since the last checkpoint),
 * eotSamples 1 (gradient samples averaged per step, expectation over
 * transformation for a model random at inference: AutoAttack's rand
 * version uses 20), surrogate none. Input: any bounds (ε in pixel units). Per example it
 * keeps the first successful iterate, else the highest loss. The iteration
 * and its checkpoints follow the authors' code; `apgd-loop.ts` lists the
 * few deliberate departures.
 *
 *   const [r] = await new APGD({ loss: 'dlr' }).run(model, { x, labels }, [8 / 255]);
 *   console.log(r.success.filter(Boolean).length, 'fooled');
 */
import type * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';
import { APGD_MOMENTUM, type ApgdConfig, apgdSearch } from './apgd-loop.js';
import { type AttackContext, type BaseOptions, FixedEpsilonAttack } from './fixed-epsilon.js';
import { checkPositive } from './step-size.js';
import type { AttackDescription } from './types.js';

export interface APGDOptions extends BaseOptions {
  steps?: number;
  restarts?: number;
  rho?: number;
  /** Gradient samples averaged per step (EOT). Default 1. */
  eotSamples?: number;
}

export { apgdCheckpoints } from './apgd-loop.js';

export class APGD extends FixedEpsilonAttack {
  readonly name: string = 'apgd';
  protected readonly steps: number;
  protected readonly restarts: number;
  protected readonly rho: number;
  protected readonly eotSamples: number;

  /** `ownKeys`: option names a subclass accepts beyond APGD's. */
  constructor(options: APGDOptions = {}, ownKeys: readonly string[] = []) {
    super(options, [
      ...(['steps', 'restarts', 'rho', 'eotSamples'] satisfies (keyof APGDOptions)[]),
      ...ownKeys,
    ]);
    if (this.norm === 'l1') {
      throw new InputError('UNKNOWN_NORM', 'APGD supports the linf and l2 norms; use PGD for l1');
    }
    checkPositive(options.steps, 'steps', true);
    checkPositive(options.restarts, 'restarts', true);
    checkPositive(options.eotSamples, 'eotSamples', true);
    this.eotSamples = options.eotSamples ?? 1;
    this.steps = options.steps ?? 100;
    this.restarts = options.restarts ?? 1;
    this.rho = options.rho ?? 0.75;
    if (!(this.rho > 0 && this.rho <= 1)) {
      throw new InputError('INVALID_OPTION', `rho must be in (0, 1]; received ${options.rho}`);
    }
  }

  protected config(eps: number): ApgdConfig {
    return {
      norm: this.normImpl,
      eps,
      steps: this.steps,
      rho: this.rho,
      loss: this.loss,
      restarts: this.restarts,
      eotSamples: this.eotSamples,
    };
  }

  protected perturb(ctx: AttackContext, eps: number): Promise<tf.Tensor4D> {
    // One round: the loss of the labels, or of the goal's targets.
    return apgdSearch(ctx, this.config(eps), [ctx.targetsT]);
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
        momentum: APGD_MOMENTUM,
        rho: this.rho,
        ...(this.eotSamples > 1 ? { eotSamples: this.eotSamples } : {}),
        kept: 'per example: first success, else the highest loss',
      },
    };
  }
}
