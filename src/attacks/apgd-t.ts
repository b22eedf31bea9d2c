/**
 * APGD-T — targeted APGD on the targeted DLR loss, AutoAttack's second
 * attack: for each example, APGD is run once per target class t among the
 * classes with the 2nd, 3rd, … largest clean logits, ascending
 * −(z_y − z_t)/(z_π1 − (z_π3 + z_π4)/2), on the examples not yet fooled.
 * Success means any misclassification: the targets only steer the search.
 *
 * Paper: Croce & Hein, "Reliable evaluation of adversarial robustness with an
 * ensemble of diverse parameter-free attacks", ICML 2020.
 * Norm: L∞ or L2.
 *
 * Options (defaults): norm 'linf', steps 100 and restarts 1 per target,
 * targets 9 (capped at classes − 1), rho 0.75, loss 'dlr' (the targeted
 * DLR; 'ce' or 'cw' ascend their targeted forms instead), surrogate none
 * (targets are then ranked by the surrogate's clean logits). With 3 classes
 * the DLR scale is z_π1 − z_π3, with 2 the loss is the plain margin (see
 * `dlrTargeted`). With a targeted goal the goal's target is the only one
 * and success means reaching it. Per example it keeps the first success,
 * else the highest loss of any target.
 *
 *   const [r] = await new APGDT({ targets: 3 }).run(model, { x, labels }, [0.3]);
 *   console.log(r.success.filter(Boolean).length, 'misclassified');
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';
import { APGD, type APGDOptions } from './apgd.js';
import { apgdSearch } from './apgd-loop.js';
import type { AttackContext } from './fixed-epsilon.js';
import { checkPositive } from './step-size.js';
import type { AttackDescription } from './types.js';

export interface APGDTOptions extends APGDOptions {
  /** How many target classes to try, the 2nd…(targets+1)th largest clean logits. Default 9. */
  targets?: number;
}

/**
 * Per target round r (0-based), each example's class with the (r + 2)th
 * largest logit; ties go to the lower class index.
 */
export function rankedTargets(
  logits: Float32Array,
  n: number,
  k: number,
  rounds: number,
): Int32Array[] {
  const out = Array.from({ length: rounds }, () => new Int32Array(n));
  const order = Array.from({ length: k }, (_, j) => j);
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * k, (i + 1) * k);
    const sorted = [...order].sort((a, b) => row[b] - row[a] || a - b);
    for (let r = 0; r < rounds; r++) out[r][i] = sorted[r + 1];
  }
  return out;
}

export class APGDT extends APGD {
  override readonly name: string = 'apgd-t';
  private readonly targetCount: number;

  constructor(options: APGDTOptions = {}) {
    super({ ...options, loss: options.loss ?? 'dlr' }, ['targets']);
    checkPositive(options.targets, 'targets', true);
    this.targetCount = options.targets ?? 9;
  }

  protected override async perturb(ctx: AttackContext, eps: number): Promise<tf.Tensor4D> {
    if (ctx.targetsT) return apgdSearch(ctx, this.config(eps), [ctx.targetsT]);
    const n = ctx.x.shape[0];
    const k = ctx.attacker.numClasses;
    if (k < 2) {
      throw new InputError('INVALID_OPTION', `APGD-T needs at least 2 classes; the model has ${k}`);
    }
    const rounds = Math.min(this.targetCount, k - 1);
    const z = tf.tidy(() => ctx.attacker.logits(ctx.x));
    const clean = (await z.data()) as Float32Array;
    z.dispose();
    const targets = rankedTargets(clean, n, k, rounds).map((t) => tf.tensor1d(t, 'int32'));
    try {
      return await apgdSearch(ctx, this.config(eps), targets);
    } finally {
      tf.dispose(targets);
    }
  }

  override describe(): AttackDescription {
    const base = super.describe();
    return {
      ...base,
      options: {
        ...base.options,
        targets: this.targetCount,
        targetRule: '2nd… largest clean logits, at most classes − 1',
        success: 'any misclassification (untargeted)',
      },
    };
  }
}
