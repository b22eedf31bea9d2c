/**
 * Sharded evaluation: shard i of N runs a contiguous range of whole batches
 * and returns a part — its per-example columns, its range, and hashes of the
 * model, the data and the plan — which `mergeParts` (merge.ts) joins with the
 * other parts into the report an unsharded run gives. Batches keep their
 * global positions, so every per-example seed is the one an unsharded run
 * uses; a shard with a checkpoint resumes from it when the scheduler retries
 * it.
 *
 *   const part = await evaluateShard(model, data, suite, { shard: { index: 3, count: 200 } });
 *   await writeFileAtomic(partFileName(part.shard), JSON.stringify(part));
 *
 * `shardFromEnv` reads the index and count from a Slurm array task
 * (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN, over SLURM_ARRAY_TASK_STEP, of
 * SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX,
 * with the count given, since the Job exposes none).
 */
import * as tf from '@tensorflow/tfjs';
import { AdvkitError, InputError } from '../errors.js';
import type { Classifier } from '../model/classifier.js';
import { checkEvaluateCall } from './arguments.js';
import { sha256Text } from './checksum.js';
import { describeData, type EvaluationSetup, planEvaluation, runBatches } from './evaluate.js';
import { planSignature } from './plan.js';
import { type BatchColumns, emptyState, type RunState, restoreState } from './state.js';
import type { EvalDataset, EvaluateOptions, EvaluationReport, Suite } from './types.js';

/** Shard `index` (0-based) of `count`. */
export interface ShardSpec {
  index: number;
  count: number;
}

export interface ShardOptions extends EvaluateOptions {
  shard: ShardSpec;
}

export const PART_KIND = 'advkit-evaluation-part';
export const PART_VERSION = 1;

/** What one shard hands to the merge. Plain JSON. */
export interface EvaluationPart {
  kind: typeof PART_KIND;
  version: typeof PART_VERSION;
  shard: ShardSpec;
  /** Whole batches [first, end) of `total`; empty (first = end) when there are more shards than batches. */
  batches: { first: number; end: number; total: number };
  /** Examples [first, end) of `total`, in data-set positions. */
  examples: { first: number; end: number; total: number };
  batchSize: number;
  /**
   * model: the model checksum (null without one); data: sha256 of the
   * evaluated examples' pixels, labels and description; plan: sha256 of the
   * attacks, ε, goal, seed, batch size, minimal-ε, diagnostics and
   * example-image settings. Every part of one evaluation has the same three.
   */
  hashes: { model: string | null; data: string; plan: string };
  /** The report's `data` field. */
  data: EvaluationReport['data'];
  /** The range's per-example columns, in data-set order. */
  columns: BatchColumns;
  /** Time spent on this range, including before a resume. */
  elapsedMs: number;
  resumed: boolean;
  backend: string;
  createdAt: string;
  /**
   * What the caller needs to rebuild the model and suite at merge time (the
   * CLI keeps its flags here); advkit does not read it.
   */
  invocation?: unknown;
}

/** Whole batches [first, end) of shard `spec` among `batches`: balanced, contiguous, in order. */
export function shardRange(spec: ShardSpec, batches: number): [number, number] {
  checkShard(spec);
  return [
    Math.floor((spec.index * batches) / spec.count),
    Math.floor(((spec.index + 1) * batches) / spec.count),
  ];
}

export function checkShard(spec: ShardSpec, name = 'shard'): ShardSpec {
  const { index, count } = spec ?? ({} as ShardSpec);
  if (!Number.isInteger(count) || count < 1) {
    throw new InputError(
      'INVALID_OPTION',
      `${name}.count must be a positive integer; received ${JSON.stringify(count)}`,
    );
  }
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new InputError(
      'INVALID_OPTION',
      `${name}.index must be an integer from 0 to ${count - 1} (0-based, below count ${count}); received ${JSON.stringify(index)}`,
    );
  }
  return { index, count };
}

/** "3/200" → shard 3 (0-based) of 200. */
export function parseShard(text: string, name = 'shard'): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) {
    throw new InputError(
      'INVALID_OPTION',
      `${name} must be INDEX/COUNT with a 0-based index, e.g. 0/4 … 3/4; received ${JSON.stringify(text)}`,
    );
  }
  return checkShard({ index: Number(m[1]), count: Number(m[2]) }, name);
}

/** Where a shard's index and count came from, for messages. */
export interface ResolvedShard {
  shard: ShardSpec;
  from: string;
}

/**
 * The shard of a scheduler task, from its environment: a Slurm array task
 * (index = (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN) / SLURM_ARRAY_TASK_STEP,
 * count = SLURM_ARRAY_TASK_COUNT, which must equal `count` when that is
 * given), else a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with `count`
 * required: the Job has no count variable). Undefined outside both. An
 * array that is not an evenly stepped range (`--array=1,5,9` lists) cannot
 * be mapped to shards and is an error.
 */
export function shardFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  count?: number,
): ResolvedShard | undefined {
  const int = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const v = Number(raw);
    if (!Number.isInteger(v) || !/^\s*-?\d+\s*$/.test(raw)) {
      throw new InputError(
        'INVALID_OPTION',
        `${name} must be an integer; received ${JSON.stringify(raw)}`,
      );
    }
    return v;
  };
  const id = int('SLURM_ARRAY_TASK_ID');
  if (id !== undefined) {
    const total = int('SLURM_ARRAY_TASK_COUNT');
    const min = int('SLURM_ARRAY_TASK_MIN') ?? 0;
    const max = int('SLURM_ARRAY_TASK_MAX');
    const step = int('SLURM_ARRAY_TASK_STEP') ?? 1;
    if (total === undefined) {
      throw new InputError(
        'INVALID_OPTION',
        `SLURM_ARRAY_TASK_ID=${id} is set but SLURM_ARRAY_TASK_COUNT is not; submit with sbatch --array, or give --shard INDEX/COUNT`,
      );
    }
    const from = `SLURM_ARRAY_TASK_ID=${id}, SLURM_ARRAY_TASK_MIN=${min}, SLURM_ARRAY_TASK_STEP=${step}, SLURM_ARRAY_TASK_COUNT=${total}`;
    const contiguous =
      step >= 1 &&
      (max === undefined || ((max - min) % step === 0 && (max - min) / step + 1 === total));
    const index = (id - min) / step;
    if (!contiguous || !Number.isInteger(index) || index < 0 || index >= total) {
      throw new InputError(
        'INVALID_OPTION',
        `the Slurm array (${from}${max !== undefined ? `, SLURM_ARRAY_TASK_MAX=${max}` : ''}) is not an evenly stepped range of task ids, so its tasks cannot be numbered as shards; use --array=MIN-MAX[:STEP], or give --shard INDEX/COUNT`,
      );
    }
    if (count !== undefined && count !== total) {
      throw new InputError(
        'INVALID_OPTION',
        `shard count ${count} differs from the Slurm array's SLURM_ARRAY_TASK_COUNT=${total}; leave the count out or make them agree`,
      );
    }
    return { shard: { index, count: total }, from };
  }
  const k8s = int('JOB_COMPLETION_INDEX');
  if (k8s !== undefined) {
    if (count === undefined) {
      throw new InputError(
        'INVALID_OPTION',
        `JOB_COMPLETION_INDEX=${k8s} is set (a Kubernetes Indexed Job) but no shard count is given; Indexed Jobs expose no count: give the Job's completions as the count (--shard-count N), or --shard off to run everything here`,
      );
    }
    return {
      shard: checkShard(
        { index: k8s, count },
        `JOB_COMPLETION_INDEX with shard count ${count}: shard`,
      ),
      from: `JOB_COMPLETION_INDEX=${k8s}, shard count ${count}`,
    };
  }
  return undefined;
}

/** "part-003-of-200.json": zero-padded so that a shell glob lists parts in order. */
export function partFileName(spec: ShardSpec): string {
  const w = String(spec.count).length;
  return `part-${String(spec.index).padStart(w, '0')}-of-${spec.count}.json`;
}

/**
 * Run shard `options.shard` of the evaluation and return its part. With
 * `options.checkpoint` it saves after every batch and resumes from a
 * checkpoint of the same shard of the same evaluation (anything else is a
 * RESUME_MISMATCH). `limit`, `batchSize` and the rest mean what they mean
 * for `evaluate`; every shard must be given the same ones.
 */
export async function evaluateShard(
  model: Classifier,
  data: EvalDataset,
  suite: Suite,
  options: ShardOptions,
): Promise<EvaluationPart> {
  const started = Date.now();
  const { shard: spec, ...rest } = options;
  const shard = checkShard(spec, 'options.shard');
  // From here on only the checked data (plain arrays copied into typed ones) is read.
  data = checkEvaluateCall(model, data, suite, rest);
  const described = describeData(model, data, options);
  const setup = await planEvaluation(model, suite, options, described);
  const range = shardRange(shard, setup.batches);
  const fingerprint = { ...setup.fingerprint, range };
  const store = options.checkpoint;
  const saved = store ? await store.load() : undefined;
  let state: RunState;
  if (saved !== undefined && store) {
    state = restoreState(saved, fingerprint, store.location);
  } else {
    state = emptyState(fingerprint, setup.plan.attacks.length, setup.plan.epsilons.length);
    state.batchesDone = range[0];
  }
  const resumed = state.batchesDone > range[0];
  const elapsedBefore = state.elapsedMs;
  await runBatches({ setup, data, suite, options, state, range, resumed, started });
  const n = setup.examples;
  const { clean, attacks, diagnostics } = state;
  return {
    kind: PART_KIND,
    version: PART_VERSION,
    shard,
    batches: { first: range[0], end: range[1], total: setup.batches },
    examples: {
      first: Math.min(n, range[0] * setup.batchSize),
      end: Math.min(n, range[1] * setup.batchSize),
      total: n,
    },
    batchSize: setup.batchSize,
    hashes: {
      model: setup.modelChecksum,
      data: await dataHash(data, described),
      plan: await planHash(setup),
    },
    data: described,
    columns: { clean, attacks, diagnostics },
    elapsedMs: elapsedBefore + (Date.now() - started),
    resumed,
    backend: tf.getBackend(),
    createdAt: new Date().toISOString(),
  };
}

/**
 * sha256 over the description and the evaluated examples' labels and pixels
 * (all of them, not the shard's: a part computed on other data differs).
 */
export async function dataHash(
  data: EvalDataset,
  described: EvaluationReport['data'],
): Promise<string> {
  const n = described.examples;
  const [h, w, c] = described.shape;
  const bytes = async (a: Float32Array | Int32Array) => {
    // A copy: the data may be a view into a SharedArrayBuffer, which digest refuses.
    const view = new Uint8Array(a.byteLength);
    view.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    const digest = await globalThis.crypto.subtle.digest('SHA-256', view);
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  };
  return sha256Text(
    JSON.stringify({
      described,
      labels: await bytes(data.labels.subarray(0, n)),
      pixels: await bytes(data.images.subarray(0, n * h * w * c)),
    }),
  );
}

/** sha256 of everything in the setup that decides the numbers, apart from the model and data. */
export async function planHash(setup: EvaluationSetup): Promise<string> {
  const { modelChecksum: _m, dataSource: _d, examples: _e, range: _r, ...rest } = setup.fingerprint;
  return sha256Text(JSON.stringify({ fingerprint: rest, plan: planSignature(setup.plan) }));
}

/** Parse a part file's text; `location` names it in errors. */
export function parsePart(text: string, location: string): EvaluationPart {
  let part: EvaluationPart;
  try {
    part = JSON.parse(text) as EvaluationPart;
  } catch (e) {
    throw new AdvkitError(
      'PART_MISMATCH',
      `part ${location} is not valid JSON (${(e as Error).message}); run its shard again`,
    );
  }
  if (part?.kind !== PART_KIND || part.version !== PART_VERSION) {
    throw new AdvkitError(
      'PART_MISMATCH',
      `part ${location} is not an advkit evaluation part (kind ${PART_KIND}, version ${PART_VERSION})`,
    );
  }
  return part;
}
