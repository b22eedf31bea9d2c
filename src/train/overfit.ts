/**
 * Catastrophic-overfitting detector (Wong, Rice & Kolter 2020, §5): a model
 * trained against a one-step attack can learn to defeat that attack — its
 * adversarial training accuracy stays high, or its adversarial loss collapses
 * — while a stronger held-out PGD attack succeeds again. A pure function of
 * the epoch history, so it is tested on constructed histories.
 *
 * It fires at epoch e when the training attack still looks beaten
 * (adversarial training accuracy ≥ `minTrainAdvAccuracy`) and the held-out
 * PGD accuracy has collapsed: it fell more than `maxDrop` below its best so
 * far, or it lies more than `maxGap` below the adversarial training accuracy.
 */

/** What the detector reads from one epoch. */
export interface OverfitEpoch {
  epoch: number;
  /** Accuracy on the training attack's examples (0..1); null for standard training. */
  advTrainAccuracy: number | null;
  /** Mean loss on the training attack's examples; null for standard training. */
  advTrainLoss: number | null;
  /** Robust accuracy on the held-out subset under PGD (0..1); null if not measured. */
  heldOutPgdAccuracy: number | null;
}

export interface OverfitThresholds {
  /** Largest tolerated fall of held-out PGD accuracy below its best. Default 0.2. */
  maxDrop?: number;
  /** Largest tolerated adversarial-train minus held-out PGD accuracy. Default 0.7. */
  maxGap?: number;
  /** The training attack counts as beaten from this accuracy on. Default 0.5. */
  minTrainAdvAccuracy?: number;
}

export const DEFAULT_OVERFIT_THRESHOLDS: Required<OverfitThresholds> = {
  maxDrop: 0.2,
  maxGap: 0.7,
  minTrainAdvAccuracy: 0.5,
};

export interface OverfitVerdict {
  overfit: boolean;
  /** The epoch judged (the last one of the history). */
  epoch: number | null;
  /** The epoch with the best held-out PGD accuracy so far. */
  bestEpoch: number | null;
  bestPgdAccuracy: number | null;
  /** Plain-language reasons, empty when healthy. */
  reasons: string[];
}

const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;

/** Judge the last epoch of `history` against the epochs before it. */
export function detectCatastrophicOverfitting(
  history: readonly OverfitEpoch[],
  thresholds: OverfitThresholds = {},
): OverfitVerdict {
  const th = { ...DEFAULT_OVERFIT_THRESHOLDS, ...thresholds };
  let bestEpoch: number | null = null;
  let best: number | null = null;
  for (const h of history) {
    if (h.heldOutPgdAccuracy !== null && (best === null || h.heldOutPgdAccuracy > best)) {
      best = h.heldOutPgdAccuracy;
      bestEpoch = h.epoch;
    }
  }
  const last = history[history.length - 1];
  const verdict: OverfitVerdict = {
    overfit: false,
    epoch: last ? last.epoch : null,
    bestEpoch,
    bestPgdAccuracy: best,
    reasons: [],
  };
  if (!last || last.heldOutPgdAccuracy === null || last.advTrainAccuracy === null) return verdict;
  const pgd = last.heldOutPgdAccuracy;
  const adv = last.advTrainAccuracy;
  if (adv < th.minTrainAdvAccuracy) return verdict;
  const collapse: string[] = [];
  if (best !== null && best - pgd > th.maxDrop) {
    collapse.push(
      `held-out PGD accuracy ${pct(pgd)} fell ${pct(best - pgd)} below its best ${pct(best)} (epoch ${bestEpoch})`,
    );
  }
  if (adv - pgd > th.maxGap) {
    collapse.push(
      `adversarial training accuracy ${pct(adv)} is ${pct(adv - pgd)} above held-out PGD accuracy ${pct(pgd)}`,
    );
  }
  if (collapse.length === 0) return verdict;
  const prev = history.length > 1 ? history[history.length - 2] : undefined;
  if (prev?.advTrainLoss != null && last.advTrainLoss !== null) {
    collapse.push(
      `adversarial training loss ${prev.advTrainLoss.toFixed(3)} → ${last.advTrainLoss.toFixed(3)}`,
    );
  }
  verdict.overfit = true;
  verdict.reasons = collapse;
  return verdict;
}
