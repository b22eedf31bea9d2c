/**
 * Adversarial training (browser-safe). Node-only checkpoint and model files
 * live in `checkpoint-node.ts`.
 */
export { ARCH_NAMES, type ArchName, wongSmall } from './arch.js';
export { epochSeed, permutation } from './batch.js';
export { decodeBlocks, encodeCheckpoint, restoreCheckpoint } from './checkpoint.js';
export { type AccuracyResult, attackAccuracy } from './held-out.js';
export { OPTIMIZER_NAMES, type OptimizerName, TrainOptimizer } from './optimizer.js';
export {
  type AdversarialTrainOptions,
  type BatchInfo,
  type Checkpoint,
  type CheckpointMeta,
  type EpochRecord,
  type HeldOutOptions,
  type ResolvedOptions,
  resolveOptions,
  TRAIN_METHODS,
  type TrainingCheckpointStore,
  type TrainingData,
  type TrainMethod,
} from './options.js';
export {
  DEFAULT_OVERFIT_THRESHOLDS,
  detectCatastrophicOverfitting,
  type OverfitEpoch,
  type OverfitThresholds,
  type OverfitVerdict,
} from './overfit.js';
export {
  type EvaluationRow,
  type FinalEvaluation,
  type FinalEvaluationOptions,
  finalEvaluation,
  type TrainingReport,
} from './report.js';
export { trainingCurveSpecs, trainingReportHtml } from './report-html.js';
export { learningRate, SCHEDULE_NAMES, type ScheduleName } from './schedule.js';
export { trainingAttack } from './step.js';
export { adversarialTrain, type TrainResult } from './train.js';
