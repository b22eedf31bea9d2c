/**
 * R+FGSM — a random sign step of size α, then FGSM with the remaining budget.
 *
 * Paper: Tramèr et al., "Ensemble Adversarial Training: Attacks and
 * Defenses", ICLR 2018.
 * Norm: any (L∞ by default). x₀ = clip(x + α·sign(N(0, I))); one step of size
 * ε − α from x₀; clip. The result stays inside the ε-ball by construction.
 *
 * Options (defaults): norm 'linf', loss 'ce', relAlpha 0.5 (α = ε/2),
 * surrogate none.
 *
 *   const [r] = await new RFGSM().run(model, { x, labels, seed: 3 }, [0.3]);
 */
import type * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';
import { type AttackContext, type BaseOptions, FixedEpsilonAttack } from './fixed-epsilon.js';
import type { AttackDescription } from './types.js';

export interface RFGSMOptions extends BaseOptions {
  /** Random-step size as a fraction of ε, in (0, 1). Default 0.5. */
  relAlpha?: number;
}

export class RFGSM extends FixedEpsilonAttack {
  readonly name = 'rfgsm';
  private readonly relAlpha: number;

  constructor(options: RFGSMOptions = {}) {
    super(options, ['relAlpha'] satisfies (keyof RFGSMOptions)[]);
    this.relAlpha = options.relAlpha ?? 0.5;
    if (!(this.relAlpha > 0 && this.relAlpha < 1)) {
      throw new InputError(
        'INVALID_OPTION',
        `relAlpha must be in (0, 1); received ${options.relAlpha}`,
      );
    }
  }

  protected perturb(ctx: AttackContext, eps: number): Promise<tf.Tensor4D> {
    const alpha = this.relAlpha * eps;
    return this.loop(ctx, eps, {
      stepSize: eps - alpha,
      start: { kind: 'gaussian-step', size: alpha },
    });
  }

  describe(): AttackDescription {
    return {
      name: this.name,
      paper: 'Tramèr et al., ICLR 2018',
      ...this.baseDescription(),
      clipping: 'bounds (stays inside the ε-ball by construction)',
      options: { alpha: `${this.relAlpha}·ε`, stepSize: `${1 - this.relAlpha}·ε` },
    };
  }
}
