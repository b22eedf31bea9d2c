/**
 * `evaluate`: run a suite of attacks over a data set, batch by batch, and
 * return the report data. Seeded and deterministic; with a checkpoint store
 * it saves after every finished batch and resumes from the last one,
 * refusing a checkpoint written for a different model, data, suite or seed.
 *
 *   const report = await evaluate(model, data, { epsilons: [0, 0.1, 0.2, 0.3] });
 *   console.log(report.attacks[1].results[3].robustAccuracy);
 */
import * as tf from '@tensorflow/tfjs';
import { type AttackName, createAttack } from '../attacks/index.js';
import { InputError } from '../errors.js';
import type { Classifier } from '../model/classifier.js';
import { validateEpsilons } from '../model/validate.js';
import { getNorm } from '../threat-model/norms.js';
import { UNTARGETED } from '../threat-model/targets.js';
import { type Plan, type PlannedAttack, runBatch } from './batch.js';
import { buildReport } from './build.js';
import { modelChecksum as computeChecksum } from './checksum.js';
import { emptyState, type Fingerprint, type RunState, restoreState } from './state.js';
import type {
  EvalDataset,
  EvaluateOptions,
  EvaluatePhase,
  EvaluationReport,
  Suite,
  SuiteAttack,
} from './types.js';

/** FGSM, then PGD with restarts: the spec's stronger baseline after FGSM. */
export const DEFAULT_ATTACKS: readonly SuiteAttack[] = [
  { name: 'fgsm' },
  { name: 'pgd', options: { steps: 40, restarts: 3 } },
];

/** One-step attacks; everything else counts as a stronger baseline. */
const ONE_STEP: readonly AttackName[] = ['fgsm', 'fgsm-rs', 'rfgsm'];

export async function evaluate(
  model: Classifier,
  data: EvalDataset,
  suite: Suite,
  options: EvaluateOptions = {},
): Promise<EvaluationReport> {
  const started = Date.now();
  const batchSize = positiveInt(options.batchSize ?? 100, 'batchSize');
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) {
    throw new InputError('INVALID_OPTION', `seed must be an integer; received ${seed}`);
  }
  const shape = checkData(model, data);
  const d = shape[0] * shape[1] * shape[2];
  const available = data.labels.length;
  const n =
    options.limit === undefined
      ? available
      : Math.min(available, positiveInt(options.limit, 'limit'));
  const plan = makePlan(model, suite, seed, options);
  const checksum = options.modelChecksum ?? (await computeChecksum(model));

  const fingerprint: Fingerprint = {
    modelChecksum: checksum,
    dataSource: data.source,
    examples: n,
    suite: JSON.stringify({
      attacks: plan.attacks.map((a) => a.attack.describe()),
      epsilons: plan.epsilons,
      goal: plan.goal,
      norm: suite.norm ?? 'linf',
    }),
    seed,
    batchSize,
    minimalEpsilon: JSON.stringify(plan.minimal),
    diagnostics: plan.diagnostics,
    exampleImages: plan.exampleImages,
  };
  const store = options.checkpoint;
  const saved = store ? await store.load() : undefined;
  const state: RunState =
    saved !== undefined && store
      ? restoreState(saved, fingerprint, store.location)
      : emptyState(fingerprint, plan.attacks.length, plan.epsilons.length);
  const resumed = state.batchesDone > 0;
  const elapsedBefore = state.elapsedMs;

  const batches = Math.ceil(n / batchSize);
  const emit = (phase: EvaluatePhase, batch: number, attack?: string) =>
    options.onProgress?.({
      phase,
      attack,
      batch,
      batches,
      examplesDone: Math.min(n, batch * batchSize),
      examples: n,
      resumed,
    });

  for (let b = state.batchesDone; b < batches; b++) {
    const start = b * batchSize;
    const end = Math.min(n, start + batchSize);
    const pixels = data.images.subarray(start * d, end * d);
    const x = tf.tensor4d(pixels, [end - start, ...shape]);
    try {
      await runBatch(
        plan,
        state,
        {
          x,
          pixels,
          labels: data.labels.slice(start, end),
          indices: Int32Array.from({ length: end - start }, (_, i) => start + i),
        },
        (phase, attack) => emit(phase, b, attack),
      );
    } finally {
      x.dispose();
    }
    state.batchesDone = b + 1;
    state.elapsedMs = elapsedBefore + (Date.now() - started);
    if (store) await store.save(JSON.stringify(state));
  }
  emit('done', batches);

  return buildReport({
    plan,
    state,
    modelChecksum: checksum,
    data: {
      source: data.source,
      ...(data.notes !== undefined ? { notes: data.notes } : {}),
      examples: n,
      available,
      shape,
      ...(data.classNames ? { classNames: [...data.classNames] } : {}),
    },
    norm: suite.norm ?? 'linf',
    batchSize,
    backend: tf.getBackend(),
    durationMs: elapsedBefore + (Date.now() - started),
    resumed,
    createdAt: new Date().toISOString(),
  });
}

function positiveInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) {
    throw new InputError('INVALID_OPTION', `${name} must be a positive integer; received ${v}`);
  }
  return v;
}

function checkData(model: Classifier, data: EvalDataset): [number, number, number] {
  const shape = [...data.shape] as [number, number, number];
  if (shape.join() !== model.inputShape.join()) {
    throw new InputError(
      'INVALID_SHAPE',
      `data images are [${shape}] but the model takes [${model.inputShape}]`,
    );
  }
  const d = shape[0] * shape[1] * shape[2];
  if (data.images.length !== data.labels.length * d) {
    throw new InputError(
      'INVALID_SHAPE',
      `data has ${data.labels.length} labels but ${data.images.length / d} images of [${shape}]`,
    );
  }
  if (data.numClasses !== model.numClasses) {
    throw new InputError(
      'CLASS_COUNT_MISMATCH',
      `data has ${data.numClasses} classes but the model outputs ${model.numClasses}`,
    );
  }
  if (data.labels.length === 0) {
    throw new InputError('INVALID_OPTION', 'the data set is empty');
  }
  return shape;
}

function makePlan(model: Classifier, suite: Suite, seed: number, options: EvaluateOptions): Plan {
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
  const epsMax = mopts?.epsMax ?? epsilons[epsilons.length - 1];
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
