/**
 * Options of `adversarialTrain`, their defaults, and the checks that turn a
 * bad value into a coded `InputError` naming the option.
 */
import { describeValue, InputError } from '../errors.js';
import { checkOptionKeys } from '../options.js';
import { checkSeed } from '../threat-model/rng.js';
import type { OptimizerName } from './optimizer.js';
import { OPTIMIZER_NAMES } from './optimizer.js';
import type { OverfitEpoch, OverfitThresholds, OverfitVerdict } from './overfit.js';
import { SCHEDULE_NAMES, type ScheduleName } from './schedule.js';

export type TrainMethod = 'standard' | 'fgsm' | 'fgsm-rs' | 'pgd';
export const TRAIN_METHODS: readonly TrainMethod[] = ['standard', 'fgsm', 'fgsm-rs', 'pgd'];

/** Images in the model's bounds, N×H×W×C row-major, and one label per image. */
export interface TrainingData {
  images: Float32Array;
  labels: ArrayLike<number>;
}

/** Per-batch progress. */
export interface BatchInfo {
  epoch: number;
  batch: number;
  batches: number;
  lr: number;
  /** The objective minimised on this batch (before the update). */
  loss: number;
}

/** One epoch of the training history. */
export interface EpochRecord extends OverfitEpoch {
  /** Clean loss and accuracy on the training batches (eval mode, before each update). */
  cleanTrainLoss: number;
  cleanTrainAccuracy: number;
  /** Learning rate at the epoch's first and last batch. */
  lrStart: number;
  lrEnd: number;
  seconds: number;
  heldOutCleanAccuracy: number | null;
  /** The detector's verdict after this epoch. */
  overfit: OverfitVerdict;
}

/** Storage for resumable checkpoints (files in Node: `fileCheckpointStore`). */
export interface TrainingCheckpointStore {
  /** The latest checkpoint, or undefined when there is none. */
  load(): Promise<Checkpoint | undefined>;
  /** Replace the latest checkpoint atomically. */
  save(checkpoint: Checkpoint): Promise<void>;
  /** Keep a copy of the weights with the best held-out PGD accuracy. */
  saveBest?(checkpoint: Checkpoint): Promise<void>;
  /** The copy kept by `saveBest`. */
  loadBest?(): Promise<Checkpoint | undefined>;
}

/** Everything needed to continue a run exactly where it stopped. */
export interface Checkpoint {
  meta: CheckpointMeta;
  /** Model weights then optimizer slots, float32, in `meta.tensors` order. */
  data: ArrayBuffer;
}

export interface CheckpointMeta {
  format: 'advkit-train-checkpoint';
  version: 1;
  /** Epochs completed. */
  epoch: number;
  /** The options that must match for a resume (method, ε, seed, …). */
  fingerprint: Record<string, string | number | boolean>;
  optimizer: { name: OptimizerName; step: number };
  /** Name, shape and role of each float32 block in `data`. */
  tensors: { name: string; shape: number[]; role: 'weight' | 'slot' }[];
  history: EpochRecord[];
  best: { epoch: number; pgdAccuracy: number } | null;
}

export interface HeldOutOptions {
  data: TrainingData;
  /** PGD steps of the per-epoch check. Default 10. */
  steps?: number;
  /** PGD step size; default 2.5ε/steps. */
  stepSize?: number;
  restarts?: number;
}

export interface AdversarialTrainOptions {
  /** Default 'fgsm-rs'. */
  method?: TrainMethod;
  /** L∞ radius in pixel units. Required unless method is 'standard'. */
  eps?: number;
  /**
   * Attack step size. fgsm-rs: default 1.25ε; pgd: default 2.5ε/steps;
   * ignored by fgsm (its step is ε).
   */
  alpha?: number;
  /** fgsm-rs only: start uniformly in the ε-ball (default true); false is FGSM from x. */
  randomStart?: boolean;
  /**
   * fgsm-rs only: clip the random start x + u to the bounds before taking the
   * gradient (the spec's FGSM-RS attack). Default false, as in Wong et al.'s
   * reference code, which takes the gradient at the unclipped x + u and clips
   * only the final example; on MNIST, whose background sits on the lower
   * bound, clipping the start discards half of the noise there and the run
   * overfits catastrophically.
   */
  clipStart?: boolean;
  /** pgd: steps per training attack. Default 7. */
  pgdSteps?: number;
  /** fgsm: weight of the clean loss in Goodfellow's mix. Default 0.5. */
  cleanWeight?: number;
  /** Label the training attack ascends: the true label (default) or the model's prediction. */
  attackLabel?: 'true' | 'predicted';
  epochs?: number;
  batchSize?: number;
  /** Peak (cyclic) or initial learning rate. Default 5e-3 (Adam). */
  lr?: number;
  /** Default 'cyclic' for fgsm-rs, 'constant' otherwise. */
  schedule?: ScheduleName;
  optimizer?: OptimizerName;
  seed?: number;
  /** Pixel bounds of the inputs. Default [0, 1]. */
  bounds?: readonly [number, number];
  heldOut?: HeldOutOptions;
  overfit?: OverfitThresholds;
  /** Stop when the detector fires. Default false. */
  earlyStopOnOverfit?: boolean;
  /** With a held-out set, end with the weights of the best held-out PGD epoch. Default true. */
  restoreBest?: boolean;
  /** Save a checkpoint after every epoch here. */
  checkpoint?: TrainingCheckpointStore;
  /** Continue from the store's latest checkpoint if there is one. Default true when a store is given. */
  resume?: boolean;
  onBatch?: (info: BatchInfo) => void;
  onEpoch?: (record: EpochRecord) => void | Promise<void>;
  /**
   * Abort between batches. The result says 'aborted'; the model keeps the
   * unfinished epoch's updates, and resuming from the store continues from
   * the last completed epoch exactly.
   */
  signal?: AbortSignal;
}

export interface ResolvedOptions {
  method: TrainMethod;
  eps: number;
  alpha: number;
  randomStart: boolean;
  clipStart: boolean;
  pgdSteps: number;
  cleanWeight: number;
  attackLabel: 'true' | 'predicted';
  epochs: number;
  batchSize: number;
  lr: number;
  schedule: ScheduleName;
  optimizer: OptimizerName;
  seed: number;
  bounds: readonly [number, number];
  heldOutSteps: number;
  heldOutStepSize: number;
  heldOutRestarts: number;
}

function bad(name: string, value: unknown, expected: string): InputError {
  return new InputError(
    'INVALID_OPTION',
    `${name} must be ${expected}; received ${describeValue(value)}`,
  );
}

function positive(name: string, v: unknown, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw bad(name, v, integer ? 'a positive integer' : 'a positive number');
  }
  return v;
}

function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) throw bad(name, v, `one of ${allowed.join(', ')}`);
  return v as T;
}

/**
 * Every option name, as a record so that a field added to the interface
 * fails to compile until it is listed here (and so is accepted at run time).
 */
const TRAIN_OPTION_KEYS: { [K in keyof Required<AdversarialTrainOptions>]: true } = {
  method: true,
  eps: true,
  alpha: true,
  randomStart: true,
  clipStart: true,
  pgdSteps: true,
  cleanWeight: true,
  attackLabel: true,
  epochs: true,
  batchSize: true,
  lr: true,
  schedule: true,
  optimizer: true,
  seed: true,
  bounds: true,
  heldOut: true,
  overfit: true,
  earlyStopOnOverfit: true,
  restoreBest: true,
  checkpoint: true,
  resume: true,
  onBatch: true,
  onEpoch: true,
  signal: true,
};
const HELD_OUT_KEYS: { [K in keyof Required<HeldOutOptions>]: true } = {
  data: true,
  steps: true,
  stepSize: true,
  restarts: true,
};
const OVERFIT_KEYS: { [K in keyof Required<OverfitThresholds>]: true } = {
  maxDrop: true,
  maxGap: true,
  minTrainAdvAccuracy: true,
};

export function resolveOptions(o: AdversarialTrainOptions): ResolvedOptions {
  checkOptionKeys(o, Object.keys(TRAIN_OPTION_KEYS), 'adversarialTrain options');
  checkOptionKeys(o.heldOut, Object.keys(HELD_OUT_KEYS), 'adversarialTrain options.heldOut');
  checkOptionKeys(o.overfit, Object.keys(OVERFIT_KEYS), 'adversarialTrain options.overfit');
  const method = oneOf('method', o.method ?? 'fgsm-rs', TRAIN_METHODS);
  const adversarial = method !== 'standard';
  let eps = 0;
  if (adversarial || o.eps !== undefined) {
    if (o.eps === undefined) throw bad('eps', o.eps, `a positive number for method ${method}`);
    eps = positive('eps', o.eps);
  }
  const pgdSteps = positive('pgdSteps', o.pgdSteps ?? 7, true);
  const defaultAlpha = method === 'pgd' ? (2.5 * eps) / pgdSteps : 1.25 * eps;
  const alpha = o.alpha === undefined ? defaultAlpha : positive('alpha', o.alpha);
  const cleanWeight = o.cleanWeight ?? 0.5;
  if (typeof cleanWeight !== 'number' || !(cleanWeight >= 0 && cleanWeight < 1)) {
    throw bad('cleanWeight', cleanWeight, 'a number in [0, 1)');
  }
  const seed = checkSeed(o.seed ?? 0);
  const bounds = o.bounds ?? [0, 1];
  if (bounds.length !== 2 || !bounds.every(Number.isFinite) || !(bounds[0] < bounds[1])) {
    throw bad('bounds', bounds, 'two finite numbers lo < hi');
  }
  for (const k of ['randomStart', 'clipStart'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw bad(k, o[k], 'a boolean');
  }
  const heldOutSteps = positive('heldOut.steps', o.heldOut?.steps ?? 10, true);
  return {
    method,
    eps,
    alpha,
    randomStart: o.randomStart ?? true,
    clipStart: o.clipStart ?? false,
    pgdSteps,
    cleanWeight,
    attackLabel: oneOf('attackLabel', o.attackLabel ?? 'true', ['true', 'predicted'] as const),
    epochs: positive('epochs', o.epochs ?? 10, true),
    batchSize: positive('batchSize', o.batchSize ?? 100, true),
    lr: positive('lr', o.lr ?? 5e-3),
    schedule: oneOf(
      'schedule',
      o.schedule ?? (method === 'fgsm-rs' ? 'cyclic' : 'constant'),
      SCHEDULE_NAMES,
    ),
    optimizer: oneOf('optimizer', o.optimizer ?? 'adam', OPTIMIZER_NAMES),
    seed,
    bounds: [bounds[0], bounds[1]],
    heldOutSteps,
    heldOutStepSize:
      o.heldOut?.stepSize === undefined
        ? (2.5 * eps) / heldOutSteps
        : positive('heldOut.stepSize', o.heldOut.stepSize),
    heldOutRestarts: positive('heldOut.restarts', o.heldOut?.restarts ?? 1, true),
  };
}

/** The options a checkpoint must agree with to be resumed. */
export function fingerprint(
  r: ResolvedOptions,
  n: number,
  heldOutExamples: number,
): Record<string, string | number | boolean> {
  return {
    heldOutExamples,
    heldOutSteps: r.heldOutSteps,
    heldOutStepSize: r.heldOutStepSize,
    heldOutRestarts: r.heldOutRestarts,
    method: r.method,
    eps: r.eps,
    alpha: r.alpha,
    randomStart: r.randomStart,
    clipStart: r.clipStart,
    pgdSteps: r.pgdSteps,
    cleanWeight: r.cleanWeight,
    attackLabel: r.attackLabel,
    epochs: r.epochs,
    batchSize: r.batchSize,
    lr: r.lr,
    schedule: r.schedule,
    optimizer: r.optimizer,
    seed: r.seed,
    examples: n,
  };
}

/** Check a data set against the model's input shape and class count. */
export function checkData(
  name: string,
  data: TrainingData,
  inputShape: readonly number[],
  numClasses: number,
  bounds: readonly [number, number],
): number {
  if (!data || !(data.images instanceof Float32Array)) {
    throw new InputError('INVALID_SHAPE', `${name}.images must be a Float32Array`);
  }
  const n = data.labels?.length ?? 0;
  const d = inputShape.reduce((a, b) => a * b, 1);
  if (n === 0 || data.images.length !== n * d) {
    throw new InputError(
      'INVALID_SHAPE',
      `${name} has ${n} labels and ${data.images.length} pixel values; the model's input [${inputShape.join(', ')}] needs ${d} values per label`,
    );
  }
  for (let i = 0; i < n; i++) {
    const y = data.labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) {
      throw new InputError(
        'INVALID_LABELS',
        `${name}.labels[${i}] is ${y}; labels must be integers in [0, ${numClasses - 1}]`,
      );
    }
  }
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < data.images.length; i++) {
    const v = data.images[i];
    if (Number.isNaN(v)) throw new InputError('NOT_FINITE', `${name}.images[${i}] is NaN`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo < bounds[0] - 1e-6 || hi > bounds[1] + 1e-6) {
    throw new InputError(
      'OUT_OF_BOUNDS',
      `${name}.images span [${lo}, ${hi}], outside the bounds [${bounds[0]}, ${bounds[1]}]`,
    );
  }
  return n;
}
