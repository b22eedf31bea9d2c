/**
 * `evaluate`: run a suite of attacks over a data set, batch by batch, and
 * return the report data. Seeded and deterministic; with a checkpoint store
 * it saves after every finished batch and resumes from the last one,
 * refusing a checkpoint written for a different model, data, suite or seed.
 *
 * With `options.executor` the batches run elsewhere, several at a time
 * (`workerThreads(n)` from `advkit/node`), with an identical report.
 *
 *   const report = await evaluate(model, data, { epsilons: [0, 0.1, 0.2, 0.3] });
 *   console.log(report.attacks[1].results[3].robustAccuracy);
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';
import type { Classifier } from '../model/classifier.js';
import { checkEvaluateCall } from './arguments.js';
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

  const slice = (b: number) => {
    const start = b * batchSize;
    const end = Math.min(n, start + batchSize);
    return { start, end, pixels: data.images.subarray(start * d, end * d) };
  };
  const finishBatch = async (b: number) => {
    state.batchesDone = b + 1;
    state.elapsedMs = elapsedBefore + (Date.now() - started);
    if (store) await store.save(JSON.stringify(state));
  };

  if (options.executor && state.batchesDone < batches) {
    let runner: BatchRunner | undefined;
    try {
      runner = await options.executor.open({
        model,
        suite,
        seed,
        minimalEpsilon: options.minimalEpsilon,
        diagnostics: plan.diagnostics,
        batches: batches - state.batchesDone,
        planSignature: planSignature(plan),
      });
      await runInOrder({
        runner,
        first: state.batchesDone,
        batches,
        job: (b) => {
          const { start, end, pixels } = slice(b);
          return {
            batch: b,
            pixels: pixels.slice(),
            labels: data.labels.slice(start, end),
            indices: Int32Array.from({ length: end - start }, (_, i) => start + i),
            exampleImages: Math.max(0, plan.exampleImages - start),
          };
        },
        onPhase: (phase, merged, attack) => emit(phase, merged, attack),
        merge: async (b, columns) => {
          mergeColumns(state, columns, plan.exampleImages);
          await finishBatch(b);
        },
      });
    } finally {
      await runner?.close();
    }
  }
  for (let b = state.batchesDone; b < batches; b++) {
    const { start, end, pixels } = slice(b);
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
    await finishBatch(b);
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
  if (data.labels.length === 0) {
    throw new InputError('INVALID_OPTION', 'the data set is empty');
  }
  return shape;
}
