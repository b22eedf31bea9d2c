/**
 * FGSM-RS — FGSM from a uniform random start, the inner step of "fast"
 * adversarial training.
 *
 * Paper: Wong, Rice & Kolter, "Fast is better than free: Revisiting
 * adversarial training", ICLR 2020.
 * Norm: any (L∞ by default). x₀ = clip(x + u), u uniform in the ε-ball; one
 * step of size α from x₀; projection back onto the ε-ball around x; clip.
 *
 * Options (defaults): norm 'linf', loss 'ce', relStepSize 1.25 (α = 1.25ε)
 * or stepSize (absolute α), surrogate none.
 *
 *   const attack = new FGSMRandomStart({ relStepSize: 1.25 });
 *   const [r] = await attack.run(model, { x, labels, seed: 1 }, [0.3]);
 */
import type * as tf from '@tensorflow/tfjs';
import { type AttackContext, type BaseOptions, FixedEpsilonAttack } from './fixed-epsilon.js';
import { checkPositive, resolveStepSize, type StepSizeOptions } from './step-size.js';
import type { AttackDescription } from './types.js';

export type FGSMRandomStartOptions = BaseOptions & StepSizeOptions;

export const FGSM_RS_REL_STEP = 1.25;

export class FGSMRandomStart extends FixedEpsilonAttack {
  readonly name = 'fgsm-rs';
  private readonly steps: StepSizeOptions;

  constructor(options: FGSMRandomStartOptions = {}) {
    super(options, ['stepSize', 'relStepSize'] satisfies (keyof FGSMRandomStartOptions)[]);
    checkPositive(options.stepSize, 'stepSize');
    checkPositive(options.relStepSize, 'relStepSize');
    this.steps = { stepSize: options.stepSize, relStepSize: options.relStepSize };
  }

  protected perturb(ctx: AttackContext, eps: number): Promise<tf.Tensor4D> {
    return this.loop(ctx, eps, {
      stepSize: resolveStepSize(this.steps, eps, FGSM_RS_REL_STEP),
      start: { kind: 'uniform' },
    });
  }

  describe(): AttackDescription {
    return {
      name: this.name,
      paper: 'Wong, Rice & Kolter, ICLR 2020',
      ...this.baseDescription(),
      clipping: 'ε-ball, then bounds',
      options: {
        start: 'uniform in the ε-ball',
        stepSize: this.steps.stepSize ?? `${this.steps.relStepSize ?? FGSM_RS_REL_STEP}·ε`,
      },
    };
  }
}
