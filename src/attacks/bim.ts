/**
 * BIM / I-FGSM — the Basic Iterative Method: FGSM repeated with a small step,
 * projected onto the ε-ball and clipped after every step, from x₀ = x.
 *
 * Paper: Kurakin, Goodfellow & Bengio, "Adversarial Examples in the Physical
 * World", ICLR workshop 2017.
 * Norm: any (L∞ by default). Returns the last iterate.
 *
 * Options (defaults): norm 'linf', loss 'ce'; for L∞ the paper's schedule:
 * α = 1/255 of the pixel range and ⌈min(255ε' + 4, 1.25·255ε')⌉ steps, ε'
 * being ε as a fraction of the range; for L2/L1, 10 steps of 2.5ε/10. Override
 * with steps and stepSize (absolute) or relStepSize (× ε). surrogate none.
 *
 *   const [r] = await new BIM().run(model, { x, labels }, [0.1]);
 */
import type * as tf from '@tensorflow/tfjs';
import { type AttackContext, type BaseOptions, FixedEpsilonAttack } from './fixed-epsilon.js';
import { checkPositive, resolveStepSize, type StepSizeOptions } from './step-size.js';
import type { AttackDescription } from './types.js';

export interface BIMOptions extends BaseOptions, StepSizeOptions {
  /** Number of steps; default: the paper's schedule (L∞) or 10. */
  steps?: number;
}

/** The paper's L∞ schedule, scaled to the pixel range `range`. */
export function bimPaperSchedule(eps: number, range: number): { steps: number; stepSize: number } {
  const e255 = (eps / range) * 255;
  return { steps: Math.max(1, Math.ceil(Math.min(e255 + 4, 1.25 * e255))), stepSize: range / 255 };
}

export class BIM extends FixedEpsilonAttack {
  readonly name = 'bim';
  private readonly opts: BIMOptions;

  constructor(options: BIMOptions = {}) {
    super(options, ['steps', 'stepSize', 'relStepSize'] satisfies (keyof BIMOptions)[]);
    checkPositive(options.steps, 'steps', true);
    checkPositive(options.stepSize, 'stepSize');
    checkPositive(options.relStepSize, 'relStepSize');
    this.opts = {
      steps: options.steps,
      stepSize: options.stepSize,
      relStepSize: options.relStepSize,
    };
  }

  private schedule(eps: number, range: number): { steps: number; stepSize: number } {
    const explicitStep = this.opts.stepSize !== undefined || this.opts.relStepSize !== undefined;
    if (this.norm === 'linf') {
      const paper = bimPaperSchedule(eps, range);
      return {
        steps: this.opts.steps ?? paper.steps,
        stepSize: explicitStep ? resolveStepSize(this.opts, eps, 0) : paper.stepSize,
      };
    }
    const steps = this.opts.steps ?? 10;
    return { steps, stepSize: resolveStepSize(this.opts, eps, 2.5 / steps) };
  }

  protected perturb(ctx: AttackContext, eps: number): Promise<tf.Tensor4D> {
    const [lo, hi] = ctx.model.bounds;
    const { steps, stepSize } = this.schedule(eps, hi - lo);
    return this.loop(ctx, eps, { steps, stepSize });
  }

  describe(): AttackDescription {
    const paper = this.norm === 'linf';
    return {
      name: this.name,
      paper: 'Kurakin, Goodfellow & Bengio, 2017',
      ...this.baseDescription(),
      clipping: 'ε-ball, then bounds, after every step',
      options: {
        steps: this.opts.steps ?? (paper ? '⌈min(255ε′+4, 1.25·255ε′)⌉' : 10),
        stepSize:
          this.opts.stepSize ??
          (this.opts.relStepSize !== undefined
            ? `${this.opts.relStepSize}·ε`
            : paper
              ? '1/255 of the range'
              : '2.5ε/steps'),
      },
    };
  }
}
