/**
 * Diagnostics from the run state, and the warnings they raise. The spec's
 * sanity rules: ‖δ‖ ≤ ε and x_adv in bounds; ε = 0 changes nothing; PGD is
 * never weaker than FGSM; many zero gradients, FGSM failing where iterative
 * attacks succeed, or noise beating FGSM point at gradient masking.
 */
import type { ClassifierInfo } from '../model/classifier.js';
import type { Plan } from './batch.js';
import { max, mean, ratio, SUCCESS_RATE_DEFINITION } from './metrics.js';
import type { RunState } from './state.js';
import type { Diagnostics, ReportWarning } from './types.js';

/** Above this fraction of zero input-gradient coordinates, warn. */
export const ZERO_GRADIENT_WARN = 0.5;
/** FGSM's actual loss gain below this fraction of the linear prediction: warn. */
export const FIRST_ORDER_WARN = 0.1;
/** Iterative success minus FGSM success (of clean-correct examples) above this: warn. */
export const ITERATIVE_GAP_WARN = 0.2;
/**
 * Black-box attacks or noise flipping more than this fraction of the
 * clean-correct examples that every gradient attack left robust: warn.
 */
export const BLACK_BOX_WARN = 0.005;
/** Two computations of the same logits differing by more than this (relative): warn. */
export const REPEAT_TOLERANCE = 1e-4;

const fmt = (v: number) => +v.toPrecision(4);

export function computeDiagnostics(
  plan: Pick<Plan, 'epsilons' | 'attacks' | 'goal' | 'diagnosticNorm'> &
    Partial<Pick<Plan, 'cascade'>>,
  state: RunState,
  withGradients: boolean,
): { diagnostics: Diagnostics | null; warnings: ReportWarning[] } {
  const warnings: ReportWarning[] = [];
  const { clean } = state;
  const n = clean.label.length;
  const correct = clean.label.map((y, i) => clean.predicted[i] === y);
  const cleanCorrect = correct.filter(Boolean).length;
  const countOn = (flags: readonly boolean[]) => flags.filter((f, i) => f && correct[i]).length;

  // Sanity: budget and bounds, every attack × ε × example; ε = 0 changes nothing.
  let budgetViolations = 0;
  let boundsViolations = 0;
  let maxExcess = 0;
  plan.attacks.forEach((a, ai) => {
    plan.epsilons.forEach((eps, e) => {
      const c = state.attacks[ai].perEpsilon[e];
      let budget = 0;
      let bounds = 0;
      c.distance.forEach((dist, i) => {
        const excess = dist - eps;
        if (excess > maxExcess) maxExcess = excess;
        if (dist > eps * (1 + 1e-4) + 1e-6) budget++;
        if (c.outOfBounds[i]) bounds++;
      });
      budgetViolations += budget;
      boundsViolations += bounds;
      if (budget > 0) {
        warnings.push({
          code: 'BUDGET_VIOLATION',
          severity: 'error',
          attack: a.key,
          epsilon: eps,
          message: `${a.key} at ε = ${eps}: ${budget} of ${n} examples have ‖δ‖ > ε; the attack's projection is wrong and its numbers are invalid`,
        });
      }
      if (bounds > 0) {
        warnings.push({
          code: 'BOUNDS_VIOLATION',
          severity: 'error',
          attack: a.key,
          epsilon: eps,
          message: `${a.key} at ε = ${eps}: ${bounds} of ${n} adversarial examples leave the input bounds; clipping is missing`,
        });
      }
      if (eps === 0) {
        const changed = c.distance.filter((dist) => dist > 0).length;
        if (changed > 0) {
          warnings.push({
            code: 'EPSILON_ZERO_CHANGED',
            severity: 'error',
            attack: a.key,
            epsilon: 0,
            message: `${a.key} at ε = 0 changed ${changed} of ${n} inputs; ε = 0 must return the input unchanged`,
          });
        }
      }
    });
  });

  const stronger = plan.attacks.filter((a) => a.role === 'stronger');
  if (stronger.length === 0) {
    warnings.push({
      code: 'NO_STRONGER_ATTACK',
      severity: 'warning',
      message:
        'only one-step attacks were run; a model that survives FGSM is not shown robust — add PGD (with restarts) as the stronger baseline',
    });
  }

  // Each stronger attack vs FGSM at the same ε, on the same (clean-correct) examples.
  const fgsmAt = plan.attacks.findIndex((a) => a.name === 'fgsm');
  const iterativeVsFgsm: Diagnostics['iterativeVsFgsm'] = [];
  if (fgsmAt >= 0) {
    plan.attacks.forEach((a, ai) => {
      if (a.role !== 'stronger') return;
      plan.epsilons.forEach((eps, e) => {
        if (eps === 0) return;
        const f = state.attacks[fgsmAt].perEpsilon[e].success;
        const s = state.attacks[ai].perEpsilon[e].success;
        let fgsmOnly = 0;
        let attackOnly = 0;
        for (let i = 0; i < n; i++) {
          if (!correct[i]) continue;
          if (f[i] && !s[i]) fgsmOnly++;
          if (s[i] && !f[i]) attackOnly++;
        }
        const row = {
          attack: a.key,
          epsilon: eps,
          fgsmSuccesses: countOn(f),
          attackSuccesses: countOn(s),
          fgsmOnly,
          attackOnly,
        };
        iterativeVsFgsm.push(row);
        if (row.attackSuccesses < row.fgsmSuccesses) {
          warnings.push({
            code: 'PGD_WEAKER_THAN_FGSM',
            severity: 'error',
            attack: a.key,
            epsilon: eps,
            message: `${a.key} succeeds on ${row.attackSuccesses} clean-correct examples at ε = ${eps} but FGSM on ${row.fgsmSuccesses}: an iterative attack must never be weaker than FGSM — check its step size, projection, clipping, the model mode and the loss, or give it more steps or restarts; until then the robust accuracy it reports is too high`,
          });
        } else if (
          cleanCorrect > 0 &&
          (row.attackSuccesses - row.fgsmSuccesses) / cleanCorrect > ITERATIVE_GAP_WARN
        ) {
          warnings.push({
            code: 'FGSM_WEAKER_THAN_ITERATIVE',
            severity: 'warning',
            attack: a.key,
            epsilon: eps,
            message: `at ε = ${eps} FGSM fails on ${attackOnly} clean-correct examples that ${a.key} flips (${row.fgsmSuccesses} vs ${row.attackSuccesses} of ${cleanCorrect}): a curved loss surface or a model trained against one-step attacks; FGSM alone overstates robustness here`,
          });
        }
      });
    });
  }

  // Square flipping what the gradient attacks missed: the gradient misleads them.
  // An attack's own hits: in a cascade the stages it ran on, else every example.
  const hits = (ai: number, e: number) => {
    const c = state.attacks[ai].perEpsilon[e];
    return c.success.map((s, i) => s && correct[i] && (c.attacked ? c.attacked[i] : true));
  };
  const white = plan.attacks.flatMap((a, ai) => (a.blackBox ? [] : [ai]));
  const black = plan.attacks.flatMap((a, ai) => (a.blackBox ? [ai] : []));
  const blackBoxVsWhiteBox: NonNullable<Diagnostics['blackBoxVsWhiteBox']> = [];
  if (white.length > 0) {
    plan.epsilons.forEach((eps, e) => {
      if (eps === 0) return;
      const any = (stages: number[]) => {
        const out = new Array<boolean>(n).fill(false);
        for (const ai of stages) {
          hits(ai, e).forEach((h, i) => {
            if (h) out[i] = true;
          });
        }
        return out;
      };
      const whiteHit = any(white);
      const blackHit = any(black);
      const noiseHit = withGradients ? state.diagnostics.noiseSuccess[e] : [];
      let whiteBoxRobust = 0;
      let blackBoxOnly = 0;
      let noiseOnly = 0;
      for (let i = 0; i < n; i++) {
        if (!correct[i] || whiteHit[i]) continue;
        whiteBoxRobust++;
        if (blackHit[i]) blackBoxOnly++;
        if (noiseHit[i]) noiseOnly++;
      }
      blackBoxVsWhiteBox.push({ epsilon: eps, whiteBoxRobust, blackBoxOnly, noiseOnly });
      const limit = Math.max(1, BLACK_BOX_WARN * whiteBoxRobust);
      const by = [
        ...(blackBoxOnly >= limit ? [`${plan.attacks[black[0]].key} flips ${blackBoxOnly}`] : []),
        ...(noiseOnly >= limit ? [`random noise of the same size flips ${noiseOnly}`] : []),
      ];
      if (by.length > 0) {
        warnings.push({
          code: 'BLACK_BOX_BEATS_WHITE_BOX',
          severity: 'warning',
          epsilon: eps,
          message: `at ε = ${eps} ${by.join(' and ')} of the ${whiteBoxRobust} clean-correct examples that every gradient attack (${white.map((ai) => plan.attacks[ai].key).join(', ')}) left robust: the gradient misleads the white-box attacks (gradient masking: a threshold, rounding or saturation in the model), so their robust accuracy is not robustness`,
        });
      }
    });
  }

  // The same input twice: a model random at inference needs EOT (autoattack-rand).
  let repeatability: Diagnostics['repeatability'];
  const repeat = state.diagnostics.repeatDifference;
  if (repeat && repeat.length > 0) {
    const differing = repeat.filter((v) => v > REPEAT_TOLERANCE).length;
    repeatability = { differing, maxDifference: max(repeat) };
    if (differing > 0) {
      warnings.push({
        code: 'RANDOMIZED_MODEL',
        severity: 'warning',
        message: `the same input gave different logits on two calls for ${differing} of ${n} examples (largest difference ${fmt(repeatability.maxDifference)} relative to the logits): the model is random at inference (training mode, dropout, randomised preprocessing); a single gradient sample misleads the attacks — evaluate with expectation over transformation (--attacks autoattack-rand), and the reported accuracy varies from run to run`,
      });
    }
  }

  if (!withGradients) return { diagnostics: null, warnings };

  const dg = state.diagnostics;
  const zeros = dg.zeroCoordinates.reduce((s, z) => s + z, 0);
  const zeroGradientFraction = n * dg.coordinates > 0 ? zeros / (n * dg.coordinates) : 0;
  const zeroGradientExamples = dg.zeroCoordinates.filter((z) => z === dg.coordinates).length;
  if (zeroGradientFraction > ZERO_GRADIENT_WARN || zeroGradientExamples > 0) {
    warnings.push({
      code: 'ZERO_GRADIENTS',
      severity: 'warning',
      message: `${fmt(100 * zeroGradientFraction)}% of input-gradient coordinates are exactly zero at the clean inputs (${zeroGradientExamples} of ${n} examples have an all-zero gradient): saturation, a non-differentiable step or gradient masking — FGSM cannot move these coordinates, which is not robustness`,
    });
  }

  // First-order check: FGSM (CE loss, untargeted) should gain ≈ ε‖g‖_dual at small ε.
  const firstOrder: Diagnostics['firstOrder'] = [];
  const fgsm = fgsmAt >= 0 ? plan.attacks[fgsmAt] : undefined;
  if (fgsm && plan.goal.kind === 'untargeted' && fgsm.attack.describe().loss === 'ce') {
    const mismatched: number[] = [];
    plan.epsilons.forEach((eps, e) => {
      if (eps === 0) return;
      const c = state.attacks[fgsmAt].perEpsilon[e];
      const predictedGain = eps * mean(dg.dualNorm);
      const actualGain = mean(c.loss.map((l, i) => l - clean.loss[i]));
      const r = predictedGain > 0 ? actualGain / predictedGain : null;
      firstOrder.push({ epsilon: eps, predictedGain, actualGain, ratio: r });
      if (r !== null && predictedGain > 1e-3 && r < FIRST_ORDER_WARN) mismatched.push(eps);
    });
    if (mismatched.length > 0) {
      warnings.push({
        code: 'FIRST_ORDER_MISMATCH',
        severity: 'warning',
        attack: fgsm.key,
        message: `at ε = ${mismatched.join(', ')} FGSM raised the loss by under ${FIRST_ORDER_WARN * 100}% of the linear prediction ε‖g‖_dual: the loss is far from linear around the inputs or the gradient does not describe the model (masking)`,
      });
    }
  }

  // Random noise of the same ε vs FGSM on the clean-correct examples.
  const noise: Diagnostics['noise'] = [];
  const noisy: number[] = [];
  plan.epsilons.forEach((eps, e) => {
    if (eps === 0) return;
    const ns = countOn(dg.noiseSuccess[e]);
    const fs = fgsm ? countOn(state.attacks[fgsmAt].perEpsilon[e].success) : null;
    noise.push({
      epsilon: eps,
      noiseSuccess: ratio(ns, cleanCorrect, SUCCESS_RATE_DEFINITION),
      fgsmSuccess: fs === null ? null : ratio(fs, cleanCorrect, SUCCESS_RATE_DEFINITION),
    });
    if (fs !== null && ns > fs) noisy.push(eps);
  });
  if (noisy.length > 0) {
    warnings.push({
      code: 'NOISE_BEATS_FGSM',
      severity: 'warning',
      message: `random noise of the same size succeeds more often than FGSM at ε = ${noisy.join(', ')}: the gradient points the wrong way (gradient masking), not a sign of robustness`,
    });
  }

  return {
    diagnostics: {
      zeroGradientFraction,
      zeroGradientExamples,
      firstOrder,
      noise,
      iterativeVsFgsm,
      sanity: { budgetViolations, boundsViolations, maxExcess },
      ...(black.length > 0 || plan.cascade ? { blackBoxVsWhiteBox } : {}),
      ...(repeatability ? { repeatability } : {}),
    },
    warnings,
  };
}

/**
 * Warnings about what the model outputs: an `output` option that
 * contradicts the network (e.g. 'logits' on a graph that ends in Softmax),
 * and 'logits' that look like probabilities (in [0, 1], summing to 1), for
 * any kind of model. Either way softmax is applied twice: confidences are
 * wrong and gradient attacks weakened, so robustness is overstated.
 */
export function outputKindWarnings(
  info: Pick<ClassifierInfo, 'output' | 'outputConflict' | 'outputLooksLikeProbabilities'>,
): ReportWarning[] {
  const warnings: ReportWarning[] = [];
  if (info.outputConflict) {
    warnings.push({
      code: 'OUTPUT_KIND_FORCED',
      severity: 'warning',
      message: info.outputConflict,
    });
  }
  if (info.outputLooksLikeProbabilities && info.output === 'logits') {
    warnings.push({
      code: 'OUTPUT_LOOKS_LIKE_PROBABILITIES',
      severity: 'warning',
      message:
        "the model's outputs on probe inputs (a blank image and a ramp across the bounds) lie in [0, 1] and sum to 1, as probabilities do, but they are taken as logits: softmax is applied twice, so confidences are wrong, the loss is computed on the wrong distribution and gradient attacks are weakened (robustness overstated); set output: 'probabilities' (--output probabilities) if the network ends in a softmax",
    });
  }
  return warnings;
}
