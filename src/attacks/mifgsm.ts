/**
 * MI-FGSM — momentum iterative FGSM: m ← μ·m + g/‖g‖₁ per example, step
 * α·δ*(m) (α·sign(m) for L∞), projection and clipping after every step.
 *
 * Paper: Dong et al., "Boosting Adversarial Attacks with Momentum", CVPR 2018.
 * Norm: any (L∞ by default). Returns the last iterate.
 *
 * Options (defaults): norm 'linf', loss 'ce', steps 10, decay μ = 1.0,
 * stepSize ε/steps (or relStepSize × ε), surrogate none (momentum was
 * designed for transfer: set it to attack through a surrogate).
 *
 *   const [r] = await new MIFGSM({ steps: 10 }).run(model, { x, labels }, [0.3]);
 */
import type * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';
import { type AttackContext, type BaseOptions, FixedEpsilonAttack } from './fixed-epsilon.js';
import { checkPositive, resolveStepSize, type StepSizeOptions } from './step-size.js';
import type { AttackDescription } from './types.js';

export interface MIFGSMOptions extends BaseOptions, StepSizeOptions {
  steps?: number;
  /** Momentum decay μ. Default 1.0. */
  decay?: number;
}

export class MIFGSM extends FixedEpsilonAttack {
  readonly name = 'mifgsm';
  private readonly steps: number;
  private readonly decay: number;
  private readonly stepOpts: StepSizeOptions;

  constructor(options: MIFGSMOptions = {}) {
    super(options, ['steps', 'decay', 'stepSize', 'relStepSize'] satisfies (keyof MIFGSMOptions)[]);
    checkPositive(options.steps, 'steps', true);
    checkPositive(options.stepSize, 'stepSize');
    checkPositive(options.relStepSize, 'relStepSize');
    this.steps = options.steps ?? 10;
    this.decay = options.decay ?? 1.0;
    if (!Number.isFinite(this.decay) || this.decay < 0) {
      throw new InputError(
        'INVALID_OPTION',
        `decay must be a number ≥ 0; received ${options.decay}`,
      );
    }
    this.stepOpts = { stepSize: options.stepSize, relStepSize: options.relStepSize };
  }

  protected perturb(ctx: AttackContext, eps: number): Promise<tf.Tensor4D> {
    return this.loop(ctx, eps, {
      steps: this.steps,
      stepSize: resolveStepSize(this.stepOpts, eps, 1 / this.steps),
      momentum: this.decay,
    });
  }

  describe(): AttackDescription {
    return {
      name: this.name,
      paper: 'Dong et al., CVPR 2018',
      ...this.baseDescription(),
      clipping: 'ε-ball, then bounds, after every step',
      options: {
        steps: this.steps,
        decay: this.decay,
        stepSize:
          this.stepOpts.stepSize ??
          `${this.stepOpts.relStepSize ?? +(1 / this.steps).toPrecision(4)}·ε`,
      },
    };
  }
}
