/**
 * PGD — projected gradient descent from a uniform random start in the ε-ball,
 * with restarts; per example it keeps a successful iterate if any restart
 * found one, else the iterate with the highest loss.
 *
 * Paper: Madry et al., "Towards Deep Learning Models Resistant to
 * Adversarial Attacks", ICLR 2018.
 * Norm: any (L∞ by default).
 *
 * Options (defaults): norm 'linf', loss 'ce', steps 40, relStepSize 2.5/steps
 * (α = 2.5ε/steps, Madry et al.'s rule) or stepSize (absolute), restarts 1,
 * randomStart true, surrogate none.
 *
 *   const pgd = new PGD({ steps: 40, stepSize: 0.01, restarts: 5 });
 *   const [r] = await pgd.run(model, { x, labels, seed: 0 }, [0.3]);
 */
import type * as tf from '@tensorflow/tfjs';
import { type AttackContext, type BaseOptions, FixedEpsilonAttack } from './fixed-epsilon.js';
import { checkPositive, resolveStepSize, type StepSizeOptions } from './step-size.js';
import type { AttackDescription } from './types.js';

export interface PGDOptions extends BaseOptions, StepSizeOptions {
  steps?: number;
  restarts?: number;
  randomStart?: boolean;
}

export const PGD_DEFAULT_STEPS = 40;

export class PGD extends FixedEpsilonAttack {
  readonly name = 'pgd';
  readonly steps: number;
  readonly restarts: number;
  private readonly randomStart: boolean;
  private readonly stepOpts: StepSizeOptions;

  constructor(options: PGDOptions = {}) {
    super(options, [
      'steps',
      'restarts',
      'randomStart',
      'stepSize',
      'relStepSize',
    ] satisfies (keyof PGDOptions)[]);
    checkPositive(options.steps, 'steps', true);
    checkPositive(options.restarts, 'restarts', true);
    checkPositive(options.stepSize, 'stepSize');
    checkPositive(options.relStepSize, 'relStepSize');
    this.steps = options.steps ?? PGD_DEFAULT_STEPS;
    this.restarts = options.restarts ?? 1;
    this.randomStart = options.randomStart ?? true;
    this.stepOpts = { stepSize: options.stepSize, relStepSize: options.relStepSize };
  }

  protected perturb(ctx: AttackContext, eps: number): Promise<tf.Tensor4D> {
    return this.loop(ctx, eps, {
      steps: this.steps,
      stepSize: resolveStepSize(this.stepOpts, eps, 2.5 / this.steps),
      start: this.randomStart ? { kind: 'uniform' } : { kind: 'none' },
      restarts: this.restarts,
      keep: 'best',
    });
  }

  describe(): AttackDescription {
    return {
      name: this.name,
      paper: 'Madry et al., ICLR 2018',
      ...this.baseDescription(),
      clipping: 'ε-ball, then bounds, after every step',
      options: {
        steps: this.steps,
        stepSize:
          this.stepOpts.stepSize ??
          `${this.stepOpts.relStepSize ?? +(2.5 / this.steps).toPrecision(4)}·ε`,
        restarts: this.restarts,
        randomStart: this.randomStart,
        kept: 'per example: the first success, else the highest loss',
      },
    };
  }
}
