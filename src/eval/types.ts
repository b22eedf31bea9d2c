/**
 * The evaluation's inputs (suite, options, data) and its output: the report
 * data every renderer (JSON, Markdown, HTML) and the CLI read. These types are
 * the stable contract between `evaluate` and its callers; `schemaVersion`
 * changes whenever a field changes meaning or disappears.
 */
import type { AttackDescription, AttackName, AttackOptionsByName } from '../attacks/index.js';
import type { Classifier, ModelMode, OutputKind } from '../model/classifier.js';
import type { NormName } from '../threat-model/norms.js';
import type { Goal } from '../threat-model/targets.js';
import type { BatchColumns } from './state.js';

export type { BatchColumns } from './state.js';

/** Version of the report layout below. */
export const SCHEMA_VERSION = 1 as const;

/**
 * The data set an evaluation reads: the shape `src/data` produces. Images are
 * pixel-space, row-major [n, h, w, c], inside the model's bounds.
 */
export interface EvalDataset {
  images: Float32Array;
  labels: Int32Array;
  shape: readonly [number, number, number] | readonly number[];
  numClasses: number;
  classNames?: readonly string[];
  /** Where the data came from, e.g. "mnist test"; part of the resume fingerprint. */
  source: string;
  notes?: string;
}

/** One attack of a suite, by name, with its hyper-parameters. */
export interface SuiteAttack<K extends AttackName = AttackName> {
  name: K;
  /** Attack options; `norm` defaults to the suite's norm. */
  options?: AttackOptionsByName[K];
}

/**
 * AutoAttack's versions as suite presets (Croce & Hein, ICML 2020), each a
 * worst-case cascade: `autoattack` = APGD-CE, APGD-T, FAB-T, Square;
 * `autoattack-fast` = APGD-CE, APGD-T; `autoattack-rand` = APGD-CE and
 * APGD-DLR with expectation over transformation (20 gradient samples), for
 * models that are random at inference.
 */
export type AutoAttackVersion = 'autoattack' | 'autoattack-fast' | 'autoattack-rand';
export const AUTOATTACK_VERSIONS: readonly AutoAttackVersion[] = [
  'autoattack',
  'autoattack-fast',
  'autoattack-rand',
];

/** What to run: attacks × ε values under one goal and norm. */
export interface Suite {
  /**
   * Attacks in order, or an AutoAttack preset by name. Default: FGSM, then
   * PGD (40 steps, 5 restarts) as the stronger baseline the spec requires
   * after FGSM.
   */
  attacks?: SuiteAttack[] | AutoAttackVersion;
  /**
   * Run the attacks as a worst-case cascade: each attack only on the
   * examples that are clean-correct and that every earlier attack left
   * robust, so robust accuracy after the last one is that of the ensemble
   * (the goal must be untargeted). Default: true for a preset, false for a
   * list (every attack on every example).
   */
  cascade?: boolean;
  /** Budgets in pixel units, e.g. [0, 0.1, 0.2, 0.3]. */
  epsilons: readonly number[];
  /** Default untargeted. */
  goal?: Goal;
  /** Threat-model norm for every attack without its own. Default 'linf'. */
  norm?: NormName;
}

/** Per-example minimal-ε search: grid (the suite's ε list) then bisection. */
export interface MinimalEpsilonOptions {
  /** Attacks to search with (must be in the suite). Default: fgsm and pgd where present. */
  attacks?: AttackName[];
  /** Upper end of the search. Default: the largest ε of the suite. */
  epsMax?: number;
  /** Bisection halvings after the grid bracket. Default 5. */
  bisectionSteps?: number;
}

/** Where a resumable run keeps its state; `fileCheckpoint(path)` (Node) is one. */
export interface CheckpointStore {
  /** The saved text, or undefined when there is none. */
  load(): Promise<string | undefined>;
  /** Replace the saved text atomically. */
  save(text: string): Promise<void>;
  /** Where it lives, for messages. */
  readonly location: string;
}

export type EvaluatePhase = 'clean' | 'attack' | 'minimal-epsilon' | 'diagnostics' | 'done';

export interface ProgressEvent {
  phase: EvaluatePhase;
  /** The attack being run, for 'attack' and 'minimal-epsilon'. */
  attack?: string;
  /**
   * Batches finished (0-based index of the batch being worked on, or the count
   * when done). With an executor: the batches merged so far, in order (the
   * phase is that of whichever batch a worker just started).
   */
  batch: number;
  batches: number;
  examplesDone: number;
  examples: number;
  /** True when the batches so far came from a checkpoint. */
  resumed: boolean;
}

export interface EvaluateOptions {
  /** Examples per batch. Default 100. */
  batchSize?: number;
  /** Seed for random starts, random targets and noise baselines. Default 0. */
  seed?: number;
  /** Use only the first `limit` examples. */
  limit?: number;
  /** Resume from / save to this store after every finished batch. */
  checkpoint?: CheckpointStore;
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Checksum of the model's topology and weights (e.g. from `loadModel`). When
   * absent a LayersModel's weights are hashed; a plain function gets null and
   * a warning.
   */
  modelChecksum?: string;
  /** Examples kept (original and adversarial pixels) for image grids. Default 8. */
  exampleImages?: number;
  /** Per-example minimal ε; false turns it off. Default on. */
  minimalEpsilon?: MinimalEpsilonOptions | false;
  /** Gradient-masking and sanity diagnostics. Default true. */
  diagnostics?: boolean;
  /**
   * Run the batches elsewhere, several at a time: `workerThreads(n)` from
   * `advkit/node` runs them on n worker threads. The report is identical to
   * a run without one (batches are merged in order, checkpoints are saved
   * after each finished prefix of batches); progress events then report
   * phases as workers start them, with `batch` counting the batches merged.
   * Default: every batch here, one after the other.
   */
  executor?: BatchExecutor;
}

/**
 * Runs an evaluation's batches somewhere else (worker threads in Node:
 * `workerThreads` from `advkit/node`). `evaluate` opens it once per run,
 * hands out whole batches to at most `concurrency` at a time, merges the
 * returned columns in batch order, and always closes it.
 */
export interface BatchExecutor {
  /** Start what runs the batches (workers, each with its copy of the model and plan). */
  open(job: EvaluationJob): Promise<BatchRunner>;
}

/** An opened executor. */
export interface BatchRunner {
  /** How many batches may run at once. */
  readonly concurrency: number;
  /**
   * Run one batch (as `runBatch` would, on empty columns) and resolve to its
   * columns; `onPhase` is called as each phase of the batch starts.
   */
  run(
    job: BatchJob,
    onPhase: (phase: EvaluatePhase, attack?: string) => void,
  ): Promise<BatchColumns>;
  /** Stop everything; called once, after success or failure. */
  close(): Promise<void>;
}

/** What an executor needs to rebuild the evaluation's model and plan. */
export interface EvaluationJob {
  model: Classifier;
  suite: Suite;
  seed: number;
  minimalEpsilon?: MinimalEpsilonOptions | false;
  diagnostics: boolean;
  /** Batches left to run (no use starting more workers than this). */
  batches: number;
  /** `planSignature` of the plan `evaluate` built; a rebuilt plan must match it. */
  planSignature: string;
}

/** One batch for an executor. The arrays are the batch's own copies: the executor may transfer them. */
export interface BatchJob {
  /** 0-based batch number. */
  batch: number;
  /** The batch's pixels, row-major [n, h, w, c]. */
  pixels: Float32Array;
  labels: Int32Array;
  /** Positions of the examples in the data set (they key the per-example randomness). */
  indices: Int32Array;
  /** Example images to keep per attack from this batch (the run keeps the data set's first ones). */
  exampleImages: number;
}

/** A labelled ratio: the spec's metrics always carry both counts. */
export interface Ratio {
  numerator: number;
  denominator: number;
  /** numerator / denominator, or null when the denominator is 0. */
  value: number | null;
  /** What the ratio counts, in words. */
  definition: string;
}

/** One example under one attack at one ε. */
export interface ExampleRecord {
  /** Position in the data set. */
  index: number;
  label: number;
  cleanPrediction: number;
  cleanConfidence: number;
  adversarialPrediction: number;
  adversarialConfidence: number;
  /** Cross-entropy of the true label, clean and adversarial. */
  lossBefore: number;
  lossAfter: number;
  /** ‖x_adv − x‖ in the attack's norm. */
  perturbation: number;
  /** Untargeted: prediction ≠ label; targeted: prediction = target. */
  success: boolean;
  target?: number;
  /** Cascades: whether this stage attacked the example; false: its values are those of an earlier stage (or clean). */
  attacked?: boolean;
  /** Model queries spent on the example, for query-based attacks (Square). */
  queries?: number;
}

export interface EpsilonResult {
  epsilon: number;
  /** Correct both clean and under attack / all examples. */
  robustAccuracy: Ratio;
  /** Clean-correct examples the attack succeeds on / clean-correct examples. */
  successRate: Ratio;
  /** Examples wrong before the attack (counted apart from the success rate). */
  alreadyWrong: number;
  /** Among already-wrong examples, those that count as a success anyway (targeted: already at the target). */
  alreadyWrongSuccess: number;
  meanPerturbation: number;
  maxPerturbation: number;
  meanLossBefore: number;
  meanLossAfter: number;
  examples: ExampleRecord[];
}

export interface AttackReport {
  name: string;
  /** 'baseline' for one-step attacks, 'stronger' for iterative ones run after FGSM. */
  role: 'baseline' | 'stronger';
  description: AttackDescription;
  results: EpsilonResult[];
}

/** Accuracy-vs-ε curve data, one per attack. */
export interface Curve {
  attack: string;
  points: { epsilon: number; robustAccuracy: number | null; successRate: number | null }[];
}

export interface MinimalEpsilonResult {
  attack: string;
  epsMax: number;
  /** The grid (the suite's ε values ≤ epsMax) and the halvings after it. */
  grid: number[];
  bisectionSteps: number;
  /** Per example, in data-set order: smallest ε found to flip it, 0 if wrong already, null if never flipped within epsMax. */
  values: (number | null)[];
  indices: number[];
  /** Over clean-correct examples that were flipped. */
  flipped: number;
  neverFlipped: number;
  median: number | null;
}

export type WarningCode =
  | 'ZERO_GRADIENTS'
  | 'FIRST_ORDER_MISMATCH'
  | 'NOISE_BEATS_FGSM'
  | 'PGD_WEAKER_THAN_FGSM'
  | 'FGSM_WEAKER_THAN_ITERATIVE'
  | 'BUDGET_VIOLATION'
  | 'BOUNDS_VIOLATION'
  | 'EPSILON_ZERO_CHANGED'
  | 'NO_STRONGER_ATTACK'
  | 'NO_MODEL_CHECKSUM'
  | 'TRAINING_MODE'
  | 'QUERY_ONLY_MODEL'
  | 'OUTPUT_KIND_FORCED'
  | 'OUTPUT_LOOKS_LIKE_PROBABILITIES'
  | 'BLACK_BOX_BEATS_WHITE_BOX'
  | 'RANDOMIZED_MODEL';

export interface ReportWarning {
  code: WarningCode;
  severity: 'warning' | 'error';
  message: string;
  attack?: string;
  epsilon?: number;
}

export interface Diagnostics {
  /** Fraction of input coordinates with ∂L/∂x = 0 at the clean inputs (all examples). */
  zeroGradientFraction: number;
  /** Examples whose whole input gradient is zero. */
  zeroGradientExamples: number;
  /** Linear prediction ε‖g‖_dual vs the loss change FGSM achieved (untargeted only). */
  firstOrder: {
    epsilon: number;
    predictedGain: number;
    actualGain: number;
    /** actual / predicted (mean over examples), null when predicted is 0. */
    ratio: number | null;
  }[];
  /** Random noise of the same ε (sign noise ±ε for L∞) vs FGSM, on clean-correct examples. */
  noise: { epsilon: number; noiseSuccess: Ratio; fgsmSuccess: Ratio | null }[];
  /** Each stronger attack vs FGSM at the same ε on the same examples. */
  iterativeVsFgsm: {
    attack: string;
    epsilon: number;
    fgsmSuccesses: number;
    attackSuccesses: number;
    /** FGSM succeeded, the stronger attack did not. */
    fgsmOnly: number;
    /** The stronger attack succeeded, FGSM did not. */
    attackOnly: number;
  }[];
  /** ‖δ‖ ≤ ε and bounds, over every attack, ε and example. */
  sanity: { budgetViolations: number; boundsViolations: number; maxExcess: number };
  /**
   * Per ε, when the suite has a gradient attack: clean-correct examples that
   * every gradient (white-box) attack left robust but a black-box attack
   * (Square) or the noise baseline flipped — the signature of gradient masking.
   */
  blackBoxVsWhiteBox?: {
    epsilon: number;
    /** Clean-correct examples no gradient attack flipped. */
    whiteBoxRobust: number;
    /** Of those, flipped by a black-box attack of the suite. */
    blackBoxOnly: number;
    /** Of those, flipped by random noise of the same ε. */
    noiseOnly: number;
  }[];
  /**
   * The clean logits computed twice on the same batch: examples whose two
   * results differ (beyond float tolerance), and the largest difference.
   */
  repeatability?: { differing: number; maxDifference: number };
}

/** One stage of a cascade at one ε. */
export interface CascadeStage {
  attack: string;
  /** Examples this stage attacked: clean-correct and robust to every earlier stage. */
  attacked: number;
  /** Of those, the examples it broke. */
  broken: number;
  /** Robust to this stage and every earlier one / all examples. */
  robustAccuracy: Ratio;
  /** Model queries spent by a query-based attack (Square), summed over the examples. */
  queries?: number;
}

/**
 * A worst-case cascade (`suite.cascade`, the AutoAttack presets): each attack
 * ran only on the examples still robust, so robust accuracy after the last
 * stage is that of the ensemble — an example counts as robust only if no
 * attack broke it.
 */
export interface CascadeReport {
  /** The preset, or null for a suite's own attack list. */
  version: AutoAttackVersion | null;
  /** Attack keys in the order they ran. */
  stages: string[];
  /** Positions in the data set of the examples of `brokenBy`. */
  indices: number[];
  perEpsilon: {
    epsilon: number;
    stages: CascadeStage[];
    /** Robust to every stage / all examples (the AutoAttack robust accuracy). */
    robustAccuracy: Ratio;
    /** Per example: the stage that broke it, 'clean' when misclassified clean, null when robust. */
    brokenBy: (string | null)[];
  }[];
}

/** Original and adversarial pixels of one example for an image grid. */
export interface ImageExample {
  index: number;
  label: number;
  cleanPrediction: number;
  cleanConfidence: number;
  adversarialPrediction: number;
  adversarialConfidence: number;
  /** Pixel-space values, row-major [h, w, c]. */
  original: number[];
  adversarial: number[];
}

export interface ImageGrid {
  attack: string;
  epsilon: number;
  shape: [number, number, number];
  examples: ImageExample[];
}

/** The spec's reporting checklist, one row per field. */
export interface ChecklistItem {
  field: string;
  value: string;
}

export interface EvaluationReport {
  schemaVersion: typeof SCHEMA_VERSION;
  advkitVersion: string;
  /** ISO time the evaluation finished. */
  createdAt: string;
  /** Wall time in ms, including time spent before a resume. */
  durationMs: number;
  backend: string;
  resumed: boolean;
  model: {
    name: string;
    kind: string;
    checksum: string | null;
    inputShape: [number, number, number];
    numClasses: number;
    mode: ModelMode;
    output: OutputKind;
    /** How `output` was decided, e.g. "graph ends in Softmax (node …); logits read from its input …". */
    outputDetection?: string;
    /** The gradient path: the preprocessing differentiated through. */
    preprocessing: string;
  };
  data: {
    source: string;
    notes?: string;
    /** Examples evaluated (the subset). */
    examples: number;
    /** Examples in the data set. */
    available: number;
    shape: [number, number, number];
    classNames?: string[];
    /**
     * The model classes the evaluated examples cover, with their counts; the
     * data may cover only some of the model's classes.
     */
    classesCovered?: { label: number; name?: string; examples: number }[];
  };
  threatModel: {
    bounds: [number, number];
    inputScale: string;
    norm: NormName;
    normLabel: string;
    epsilons: number[];
    goal: Goal;
    goalDescription: string;
  };
  seed: number;
  batchSize: number;
  clean: { accuracy: Ratio; meanLoss: number };
  attacks: AttackReport[];
  curves: Curve[];
  minimalEpsilon: MinimalEpsilonResult[];
  diagnostics: Diagnostics | null;
  warnings: ReportWarning[];
  images: ImageGrid[];
  checklist: ChecklistItem[];
  /** Present when the suite ran as a cascade (the AutoAttack presets). */
  cascade?: CascadeReport;
}
