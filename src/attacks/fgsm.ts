/**
 * FGSM — Fast Gradient Sign Method, and its dual-norm relatives (FGM).
 *
 * Paper: Goodfellow, Shlens & Szegedy, "Explaining and Harnessing
 * Adversarial Examples", ICLR 2015.
 * Norm: L∞ (x + ε·sign(g)), L2 (x + ε·g/‖g‖₂) or L1 (all of ε on the
 * largest |g_i|, ties split). One gradient, one step, then clip to the bounds.
 * Targeted calls step against the gradient of the target's loss.
 *
 * Options (defaults): norm 'linf', loss 'ce', surrogate none (set it for the
 * transfer attack: gradients from the surrogate, success judged on the model).
 * Inputs: pixel-space images inside the model's bounds; ε in pixel units.
 *
 *   const [r] = await new FGSM().run(model, { x, labels }, [8 / 255]);
 *   console.log(r.success, r.predicted); r.xAdv.dispose();
 */
import type * as tf from '@tensorflow/tfjs';
import { type AttackContext, type BaseOptions, FixedEpsilonAttack } from './fixed-epsilon.js';
import type { AttackDescription } from './types.js';

export type FGSMOptions = BaseOptions;

export class FGSM extends FixedEpsilonAttack {
  readonly name = 'fgsm';

  protected perturb(ctx: AttackContext, eps: number): Promise<tf.Tensor4D> {
    return this.loop(ctx, eps, { stepSize: eps });
  }

  describe(): AttackDescription {
    return {
      name: this.name,
      paper: 'Goodfellow, Shlens & Szegedy, ICLR 2015',
      ...this.baseDescription(),
      clipping: 'bounds only (the single step stays inside the ε-ball)',
      options: { steps: 1, stepSize: 'ε' },
    };
  }
}
