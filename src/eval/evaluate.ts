/**
 * `evaluate`: run a suite of attacks over a data set, batch by batch, and
 * return the report data. Seeded and deterministic; with a checkpoint store
 * it saves after every finished batch and resumes from the last one,
 * refusing a checkpoint written for a different model, data, suite or seed.
 *
 * With `options.executor` the batches run elsewhere, several at a time
 * (`workerThreads(n)` from `advkit/node`), with an identical report.
 *
 * The pieces are exported for sharded runs (`shard.ts`, `merge.ts`): fix the
 * plan (`planEvaluation`), run a range of whole batches into a run state
 * (`runBatches`), build the report from a state (`reportFromState`).
 *
 *   const report = await evaluate(model, data, { epsilons: [0, 0.1, 0.2, 0.3] });
 *   console.log(report.attacks[1].results[3].robustAccuracy);
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';
import type { Classifier } from '../model/classifier.js';
import { checkSeed } from '../threat-model/rng.js';
import { checkEvaluateCall } from './arguments.js';
import type { Plan } from './batch.js';
import { runBatch } from './batch.js';
import { buildReport } from './build.js';
import { modelChecksum as computeChecksum } from './checksum.js';
import { runInOrder } from './parallel.js';
import { makePlan, planSignature } from './plan.js';
import {
  emptyState,
  type Fingerprint,
  mergeColumns,
  type RunState,
  restoreState,
} from './state.js';
import type {
  BatchRunner,
  EvalDataset,
  EvaluateOptions,
  EvaluatePhase,
  EvaluationReport,
  Suite,
} from './types.js';

export { DEFAULT_ATTACKS } from './plan.js';

export async function evaluate(
  model: Classifier,
  data: EvalDataset,
  suite: Suite,
  options: EvaluateOptions = {},
): Promise<EvaluationReport> {
  const started = Date.now();
  // From here on only the checked data (plain arrays copied into typed ones) is read.
  data = checkEvaluateCall(model, data, suite, options);
  const setup = await planEvaluation(model, suite, options, describeData(model, data, options));
  const store = options.checkpoint;
  const saved = store ? await store.load() : undefined;
  const state: RunState =
    saved !== undefined && store
      ? restoreState(saved, setup.fingerprint, store.location)
      : emptyState(setup.fingerprint, setup.plan.attacks.length, setup.plan.epsilons.length);
  const resumed = state.batchesDone > 0;
  const elapsedBefore = state.elapsedMs;
  await runBatches({
    setup,
    data,
    suite,
    options,
    state,
    range: [0, setup.batches],
    resumed,
    started,
  });
  return reportFromState(setup, state, {
    backend: tf.getBackend(),
    durationMs: elapsedBefore + (Date.now() - started),
    resumed,
    createdAt: new Date().toISOString(),
  });
}

/** What an evaluation fixes before its first batch. */
export interface EvaluationSetup {
  plan: Plan;
  seed: number;
  batchSize: number;
  norm: NonNullable<Suite['norm']>;
  modelChecksum: string | null;
  /** The report's `data` field. */
  data: EvaluationReport['data'];
  /** Examples evaluated. */
  examples: number;
  batches: number;
  /** What a checkpoint of this evaluation must match. */
  fingerprint: Fingerprint;
}

/**
 * Validate the options and build the plan and fingerprint for `data`
 * (described, not the pixels: a merge has only the parts' description).
 */
export async function planEvaluation(
  model: Classifier,
  suite: Suite,
  options: EvaluateOptions,
  data: EvaluationReport['data'],
): Promise<EvaluationSetup> {
  const batchSize = positiveInt(options.batchSize ?? 100, 'batchSize');
  const seed = checkSeed(options.seed ?? 0);
  const plan = makePlan(model, suite, seed, options);
  const checksum = options.modelChecksum ?? (await computeChecksum(model));
  const norm = suite.norm ?? 'linf';
  const n = data.examples;
  const fingerprint: Fingerprint = {
    modelChecksum: checksum,
    dataSource: data.source,
    examples: n,
    suite: JSON.stringify({
      attacks: plan.attacks.map((a) => a.attack.describe()),
      epsilons: plan.epsilons,
      goal: plan.goal,
      norm,
    }),
    seed,
    batchSize,
    minimalEpsilon: JSON.stringify(plan.minimal),
    diagnostics: plan.diagnostics,
    exampleImages: plan.exampleImages,
  };
  return {
    plan,
    seed,
    batchSize,
    norm,
    modelChecksum: checksum,
    data,
    examples: n,
    batches: Math.ceil(n / batchSize),
    fingerprint,
  };
}

/** Check the data against the model and describe the evaluated subset as the report does. */
export function describeData(
  model: Classifier,
  data: EvalDataset,
  options: Pick<EvaluateOptions, 'limit'>,
): EvaluationReport['data'] {
  const shape = checkData(model, data);
  const available = data.labels.length;
  const n =
    options.limit === undefined
      ? available
      : Math.min(available, positiveInt(options.limit, 'limit'));
  return {
    source: data.source,
    ...(data.notes !== undefined ? { notes: data.notes } : {}),
    examples: n,
    available,
    shape,
    ...(data.classNames ? { classNames: [...data.classNames] } : {}),
  };
}

export interface BatchRange {
  setup: EvaluationSetup;
  data: EvalDataset;
  suite: Suite;
  options: EvaluateOptions;
  /** Holds batches `range[0]` … `state.batchesDone − 1` already. */
  state: RunState;
  /** Whole batches [first, end) this run covers; progress counts within it. */
  range: readonly [number, number];
  resumed: boolean;
  /** Date.now() when this process started the run (for the state's elapsed time). */
  started: number;
}

/**
 * Run batches `state.batchesDone` … `range[1] − 1` into `state`, saving the
 * checkpoint after each (on this thread, or on `options.executor`). The state
 * keeps the example images of the data set's first examples, counted from
 * the range's first example, so a range that starts later keeps fewer.
 */
export async function runBatches(r: BatchRange): Promise<void> {
  const { setup, data, suite, options, state, started } = r;
  const [first, end] = r.range;
  const { batchSize, examples: n } = setup;
  const shape = setup.data.shape;
  const d = shape[0] * shape[1] * shape[2];
  const images = Math.max(0, setup.plan.exampleImages - first * batchSize);
  const plan: Plan = { ...setup.plan, exampleImages: images };
  const store = options.checkpoint;
  const elapsedBefore = state.elapsedMs;
  const firstExample = Math.min(n, first * batchSize);
  const endExample = Math.min(n, end * batchSize);
  const emit = (phase: EvaluatePhase, batch: number, attack?: string) =>
    options.onProgress?.({
      phase,
      attack,
      batch: batch - first,
      batches: end - first,
      examplesDone: Math.min(endExample, batch * batchSize) - firstExample,
      examples: endExample - firstExample,
      resumed: r.resumed,
    });

  const slice = (b: number) => {
    const start = b * batchSize;
    const stop = Math.min(n, start + batchSize);
    return { start, end: stop, pixels: data.images.subarray(start * d, stop * d) };
  };
  const finishBatch = async (b: number) => {
    state.batchesDone = b + 1;
    state.elapsedMs = elapsedBefore + (Date.now() - started);
    if (store) await store.save(JSON.stringify(state));
  };

  if (options.executor && state.batchesDone < end) {
    let runner: BatchRunner | undefined;
    try {
      runner = await options.executor.open({
        model: plan.model,
        suite,
        seed: setup.seed,
        minimalEpsilon: options.minimalEpsilon,
        diagnostics: plan.diagnostics,
        batches: end - state.batchesDone,
        planSignature: planSignature(plan),
      });
      await runInOrder({
        runner,
        first: state.batchesDone,
        batches: end,
        job: (b) => {
          const { start, end: stop, pixels } = slice(b);
          return {
            batch: b,
            pixels: pixels.slice(),
            labels: data.labels.slice(start, stop),
            indices: Int32Array.from({ length: stop - start }, (_, i) => start + i),
            exampleImages: Math.max(0, setup.plan.exampleImages - start),
          };
        },
        onPhase: (phase, merged, attack) => emit(phase, merged, attack),
        merge: async (b, columns) => {
          mergeColumns(state, columns, images);
          await finishBatch(b);
        },
      });
    } finally {
      await runner?.close();
    }
  }
  for (let b = state.batchesDone; b < end; b++) {
    const { start, end: stop, pixels } = slice(b);
    const x = tf.tensor4d(pixels, [stop - start, ...shape]);
    try {
      await runBatch(
        plan,
        state,
        {
          x,
          pixels,
          labels: data.labels.slice(start, stop),
          indices: Int32Array.from({ length: stop - start }, (_, i) => start + i),
        },
        (phase, attack) => emit(phase, b, attack),
      );
    } finally {
      x.dispose();
    }
    await finishBatch(b);
  }
  emit('done', end);
}

/** The report of a finished state; the same state gives the same report apart from `timing`. */
export function reportFromState(
  setup: EvaluationSetup,
  state: RunState,
  timing: { backend: string; durationMs: number; resumed: boolean; createdAt: string },
): EvaluationReport {
  return buildReport({
    plan: setup.plan,
    state,
    modelChecksum: setup.modelChecksum,
    data: setup.data,
    norm: setup.norm,
    batchSize: setup.batchSize,
    ...timing,
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
  if (data.labels.length === 0) {
    throw new InputError('INVALID_OPTION', 'the data set is empty');
  }
  return shape;
}
