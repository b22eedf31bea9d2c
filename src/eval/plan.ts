/**
 * The plan of an evaluation: the suite's attacks built with their options,
 * the sorted ε list, the goal, the minimal-ε search and what the diagnostics
 * need. A pure function of the model, the suite, the seed and the options, so
 * a worker thread that builds it again from the same (serialisable) inputs
 * gets the same plan; `planSignature` lets the two be compared.
 */
import {
  ATTACKS,
  type Attack,
  attackEntry,
  createAttack,
  queryAttackNames,
} from '../attacks/index.js';
import { InputError } from '../errors.js';
import type { Classifier } from '../model/classifier.js';
import { validateEpsilons } from '../model/validate.js';
import { largestDistance } from '../threat-model/bounds.js';
import { getNorm } from '../threat-model/norms.js';
import { UNTARGETED } from '../threat-model/targets.js';
import type { Plan, PlannedAttack } from './batch.js';
import {
  AUTOATTACK_VERSIONS,
  type AutoAttackVersion,
  type EvaluateOptions,
  type Suite,
  type SuiteAttack,
} from './types.js';

/** FGSM, then PGD with restarts: the spec's stronger baseline after FGSM. */
export const DEFAULT_ATTACKS: readonly SuiteAttack[] = [
  { name: 'fgsm' },
  { name: 'pgd', options: { steps: 40, restarts: 3 } },
];

/**
 * The AutoAttack presets with the reference implementation's settings
 * (fra31/auto-attack, `version='standard'` / `'rand'`): 100 iterations and
 * one restart per gradient attack; Square with 5000 queries, p_init 0.8 and
 * the schedule not rescaled; the rand version averages 20 gradient samples
 * per step (expectation over transformation).
 */
export const AUTOATTACK_ATTACKS: { readonly [V in AutoAttackVersion]: readonly SuiteAttack[] } = {
  autoattack: [
    { name: 'apgd', options: { loss: 'ce', steps: 100, restarts: 1 } },
    { name: 'apgd-t', options: { steps: 100, restarts: 1, targets: 9 } },
    { name: 'fab-t', options: { steps: 100, restarts: 1, targets: 9 } },
    { name: 'square', options: { queries: 5000, pInit: 0.8, rescaleSchedule: false } },
  ],
  'autoattack-fast': [
    { name: 'apgd', options: { loss: 'ce', steps: 100, restarts: 1 } },
    { name: 'apgd-t', options: { steps: 100, restarts: 1, targets: 9 } },
  ],
  'autoattack-rand': [
    { name: 'apgd', options: { loss: 'ce', steps: 100, restarts: 1, eotSamples: 20 } },
    { name: 'apgd', options: { loss: 'dlr', steps: 100, restarts: 1, eotSamples: 20 } },
  ],
};

/** The suite's attack list and whether it runs as a cascade. */
function suiteAttacks(suite: Suite): {
  specs: readonly SuiteAttack[];
  cascade: Plan['cascade'];
} {
  const given = suite.attacks;
  if (typeof given === 'string') {
    if (!AUTOATTACK_VERSIONS.includes(given)) {
      throw new InputError(
        'INVALID_OPTION',
        `suite.attacks ${JSON.stringify(given)} is not a preset; expected one of ${AUTOATTACK_VERSIONS.join(', ')} or a list of { name, options? }`,
      );
    }
    if (suite.cascade === false) {
      throw new InputError(
        'INVALID_OPTION',
        `suite.cascade is false, but the ${given} preset is a cascade (each attack on the examples still robust); give the attacks as a list to run each on every example`,
      );
    }
    return { specs: AUTOATTACK_ATTACKS[given], cascade: { version: given } };
  }
  if (given !== undefined && !Array.isArray(given)) {
    throw new InputError(
      'INVALID_OPTION',
      `suite.attacks must be an array of { name, options? } or a preset name; received ${typeof given}`,
    );
  }
  return {
    specs: given ?? DEFAULT_ATTACKS,
    cascade: suite.cascade === true ? { version: null } : null,
  };
}

/**
 * A cascade stage: the attack itself, described with its place in the
 * cascade, so that the description (and with it the checkpoint fingerprint
 * and the report) tells a stage that saw only the still-robust examples from
 * the same attack run on all of them.
 */
function cascadeStage(attack: Attack, stage: number, stages: number): Attack {
  return {
    name: attack.name,
    norm: attack.norm,
    describe: () => {
      const d = attack.describe();
      return {
        ...d,
        options: {
          ...d.options,
          cascade: `stage ${stage} of ${stages}, on the examples still robust`,
        },
      };
    },
    run: (model, call, epsilons) => attack.run(model, call, epsilons),
  };
}

/**
 * A query-only model runs only the suite's query attacks: refuse it before
 * anything runs, naming the gradient attacks and the ones that can run.
 */
function refuseGradientAttacks(model: Classifier, specs: readonly SuiteAttack[]): void {
  if (model.differentiable) return;
  // A transfer attack takes its gradient from the surrogate: it runs.
  const gradient = specs
    .filter((s) => (s.options as { surrogate?: unknown } | undefined)?.surrogate === undefined)
    .map((s) => s.name)
    .filter((name, i, all) => attackEntry(name)?.needsGradient && all.indexOf(name) === i);
  if (gradient.length === 0) return;
  throw new InputError(
    'NOT_DIFFERENTIABLE',
    `the model ${JSON.stringify(model.info.name)} is query-only (it has no gradient), but the suite's ${gradient.join(', ')} ${gradient.length === 1 ? 'needs' : 'need'} the model's gradient; attacks that only query the model: ${queryAttackNames().join(', ')}`,
  );
}

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
  const { specs, cascade } = suiteAttacks(suite);
  if (specs.length === 0) {
    throw new InputError('INVALID_OPTION', 'suite.attacks is empty; give at least one attack');
  }
  refuseGradientAttacks(model, specs);
  const goal = suite.goal ?? UNTARGETED;
  if (cascade && goal.kind !== 'untargeted') {
    throw new InputError(
      'INVALID_OPTION',
      `a cascade (${cascade.version ?? 'suite.cascade'}) counts an example broken when any attack misclassifies it, so suite.goal must be untargeted; received ${JSON.stringify(goal)} (APGD-T and FAB-T pick their own targets)`,
    );
  }
  const mopts = options.minimalEpsilon === false ? null : (options.minimalEpsilon ?? {});
  if (cascade && mopts?.attacks && mopts.attacks.length > 0) {
    throw new InputError(
      'INVALID_OPTION',
      `minimalEpsilon.attacks (${mopts.attacks.join(', ')}) cannot be searched in a cascade, where each attack sees only the examples still robust; run the attack in an ordinary suite for minimal ε`,
    );
  }
  const minimalNames: readonly string[] = cascade
    ? []
    : (mopts?.attacks ?? specs.map((s) => s.name).filter((s) => s === 'fgsm' || s === 'pgd'));
  for (const m of minimalNames) {
    if (!specs.some((s) => s.name === m)) {
      throw new InputError(
        'INVALID_OPTION',
        `minimalEpsilon.attacks names ${JSON.stringify(m)}, which is not in the suite (${specs.map((s) => s.name).join(', ')})`,
      );
    }
  }
  const seen = new Map<string, number>();
  const attacks: PlannedAttack[] = specs.map((s, i) => {
    // A cascade names APGD by its loss, as AutoAttack does (APGD-CE, APGD-DLR).
    const base =
      cascade && s.name === 'apgd'
        ? `apgd-${(s.options as { loss?: string } | undefined)?.loss ?? 'ce'}`
        : s.name;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    const attack = createAttack(s.name, {
      norm: norm.name,
      ...(s.options ?? {}),
    } as never);
    return {
      key: count === 1 ? base : `${base} (${count})`,
      name: s.name,
      attack: cascade ? cascadeStage(attack, i + 1, specs.length) : attack,
      role: ATTACKS[s.name].stronger ? 'stronger' : 'baseline',
      minimal: count === 1 && minimalNames.includes(s.name),
      blackBox: !ATTACKS[s.name].needsGradient,
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
    goal,
    seed,
    epsilons,
    attacks,
    imageEpsilon: epsilons.length - 1,
    exampleImages,
    // The diagnostics differentiate the model: a query-only model has none (the report says so).
    diagnostics: (options.diagnostics ?? true) && model.differentiable,
    diagnosticNorm: fgsm ? getNorm(fgsm.attack.norm) : norm,
    minimal,
    cascade,
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
    cascade: plan.cascade,
  });
}
