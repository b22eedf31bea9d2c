/**
 * The spec's two labelled metrics, computed from per-example outcomes.
 *
 * - robust accuracy = examples correct both clean and under attack / all examples
 * - attack success rate = clean-correct examples the attack succeeds on /
 *   clean-correct examples; already-wrong examples are counted apart.
 *
 * "Correct under attack" means the adversarial prediction equals the label
 * (for targeted attacks too: a targeted attack can fail to reach its target
 * yet still move the prediction off the label).
 */
import type { Ratio } from './types.js';

export const ROBUST_ACCURACY_DEFINITION = 'correct both clean and under attack / all examples';
export const SUCCESS_RATE_DEFINITION =
  'clean-correct examples the attack succeeds on / clean-correct examples';
export const CLEAN_ACCURACY_DEFINITION = 'correct clean / all examples';

export function ratio(numerator: number, denominator: number, definition: string): Ratio {
  return {
    numerator,
    denominator,
    value: denominator === 0 ? null : numerator / denominator,
    definition,
  };
}

/** Per-example outcomes of one attack at one ε. */
export interface Outcomes {
  labels: ArrayLike<number>;
  cleanPredictions: ArrayLike<number>;
  adversarialPredictions: ArrayLike<number>;
  /** Untargeted: prediction ≠ label; targeted: prediction = target. */
  success: ArrayLike<boolean>;
}

export interface AttackMetrics {
  robustAccuracy: Ratio;
  successRate: Ratio;
  alreadyWrong: number;
  alreadyWrongSuccess: number;
}

export function attackMetrics(o: Outcomes): AttackMetrics {
  const n = o.labels.length;
  let robust = 0;
  let cleanCorrect = 0;
  let flipped = 0;
  let alreadyWrongSuccess = 0;
  for (let i = 0; i < n; i++) {
    const correct = o.cleanPredictions[i] === o.labels[i];
    if (correct) {
      cleanCorrect++;
      if (o.success[i]) flipped++;
      if (o.adversarialPredictions[i] === o.labels[i]) robust++;
    } else if (o.success[i]) {
      alreadyWrongSuccess++;
    }
  }
  return {
    robustAccuracy: ratio(robust, n, ROBUST_ACCURACY_DEFINITION),
    successRate: ratio(flipped, cleanCorrect, SUCCESS_RATE_DEFINITION),
    alreadyWrong: n - cleanCorrect,
    alreadyWrongSuccess,
  };
}

export function cleanAccuracy(labels: ArrayLike<number>, predictions: ArrayLike<number>): Ratio {
  let c = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === predictions[i]) c++;
  return ratio(c, labels.length, CLEAN_ACCURACY_DEFINITION);
}

export function mean(xs: ArrayLike<number>): number {
  if (xs.length === 0) return 0;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

export function max(xs: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < xs.length; i++) if (xs[i] > m) m = xs[i];
  return m;
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}
