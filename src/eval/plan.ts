/**
 * The plan of an evaluation: the suite's attacks built with their options,
 * the sorted ε list, the goal, the minimal-ε search and what the diagnostics
 * need. A pure function of the model, the suite, the seed and the options, so
 * a worker thread that builds it again from the same (serialisable) inputs
 * gets the same plan; `planSignature` lets the two be compared.
 */
import { type AttackName, createAttack } from '../attacks/index.js';
import { InputError } from '../errors.js';
import type { Classifier } from '../model/classifier.js';
import { validateEpsilons } from '../model/validate.js';
import { largestDistance } from '../threat-model/bounds.js';
import { getNorm } from '../threat-model/norms.js';
import { UNTARGETED } from '../threat-model/targets.js';
import type { Plan, PlannedAttack } from './batch.js';
import type { EvaluateOptions, Suite, SuiteAttack } from './types.js';

/** FGSM, then PGD with restarts: the spec's stronger baseline after FGSM. */
export const DEFAULT_ATTACKS: readonly SuiteAttack[] = [
  { name: 'fgsm' },
  { name: 'pgd', options: { steps: 40, restarts: 3 } },
];

/** One-step attacks; everything else counts as a stronger baseline. */
const ONE_STEP: readonly AttackName[] = ['fgsm', 'fgsm-rs', 'rfgsm'];

/** The plan options `makePlan` reads. */
export type PlanOptions = Pick<EvaluateOptions, 'minimalEpsilon' | 'exampleImages' | 'diagnostics'>;

export function makePlan(
  model: Classifier,
  suite: Suite,
  seed: number,
  options: PlanOptions,
): Plan {
  const epsilons = [...new Set(validateEpsilons(suite.epsilons, 'suite.epsilons'))].sort(
    (a, b) => a - b,
  );
  const norm = getNorm(suite.norm ?? 'linf');
  const specs = suite.attacks ?? DEFAULT_ATTACKS;
  if (specs.length === 0) {
    throw new InputError('INVALID_OPTION', 'suite.attacks is empty; give at least one attack');
  }
  const mopts = options.minimalEpsilon === false ? null : (options.minimalEpsilon ?? {});
  const minimalNames: readonly string[] =
    mopts?.attacks ?? specs.map((s) => s.name).filter((s) => s === 'fgsm' || s === 'pgd');
  for (const m of minimalNames) {
    if (!specs.some((s) => s.name === m)) {
      throw new InputError(
        'INVALID_OPTION',
        `minimalEpsilon.attacks names ${JSON.stringify(m)}, which is not in the suite (${specs.map((s) => s.name).join(', ')})`,
      );
    }
  }
  const seen = new Map<string, number>();
  const attacks: PlannedAttack[] = specs.map((s) => {
    const count = (seen.get(s.name) ?? 0) + 1;
    seen.set(s.name, count);
    const attack = createAttack(s.name, {
      norm: norm.name,
      ...(s.options ?? {}),
    } as never);
    return {
      key: count === 1 ? s.name : `${s.name} (${count})`,
      name: s.name,
      attack,
      role: ONE_STEP.includes(s.name) ? 'baseline' : 'stronger',
      minimal: count === 1 && minimalNames.includes(s.name),
    };
  });
  // Past the bounds' diameter every input is reachable: searching further only repeats it.
  const epsMax = Math.min(
    mopts?.epsMax ?? epsilons[epsilons.length - 1],
    largestDistance(
      norm.name,
      model.bounds,
      model.inputShape.reduce((a, b) => a * b, 1),
    ),
  );
  let minimal: Plan['minimal'] = null;
  if (mopts && epsMax > 0 && attacks.some((a) => a.minimal)) {
    if (!Number.isFinite(epsMax) || epsMax < 0) {
      throw new InputError(
        'INVALID_OPTION',
        `minimalEpsilon.epsMax must be ≥ 0; received ${epsMax}`,
      );
    }
    const bisectionSteps = mopts.bisectionSteps ?? 5;
    if (!Number.isInteger(bisectionSteps) || bisectionSteps < 0) {
      throw new InputError(
        'INVALID_OPTION',
        `minimalEpsilon.bisectionSteps must be an integer ≥ 0; received ${bisectionSteps}`,
      );
    }
    const grid = epsilons.filter((e) => e > 0 && e <= epsMax);
    if (grid[grid.length - 1] !== epsMax) grid.push(epsMax);
    minimal = { epsMax, grid, bisectionSteps };
  }
  const fgsm = attacks.find((a) => a.name === 'fgsm');
  const exampleImages = options.exampleImages ?? 8;
  if (!Number.isInteger(exampleImages) || exampleImages < 0) {
    throw new InputError(
      'INVALID_OPTION',
      `exampleImages must be an integer ≥ 0; received ${exampleImages}`,
    );
  }
  return {
    model,
    goal: suite.goal ?? UNTARGETED,
    seed,
    epsilons,
    attacks,
    imageEpsilon: epsilons.length - 1,
    exampleImages,
    diagnostics: options.diagnostics ?? true,
    diagnosticNorm: fgsm ? getNorm(fgsm.attack.norm) : norm,
    minimal,
  };
}

/**
 * Everything in a plan that decides the numbers, as text (not the model, which
 * is compared separately, nor the example-image count, which the evaluation
 * sets per batch). Two plans with the same signature run the same attacks.
 */
export function planSignature(plan: Plan): string {
  return JSON.stringify({
    attacks: plan.attacks.map((a) => ({
      key: a.key,
      name: a.name,
      role: a.role,
      minimal: a.minimal,
      description: a.attack.describe(),
    })),
    goal: plan.goal,
    seed: plan.seed,
    epsilons: plan.epsilons,
    imageEpsilon: plan.imageEpsilon,
    diagnostics: plan.diagnostics,
    diagnosticNorm: plan.diagnosticNorm.name,
    minimal: plan.minimal,
  });
}
