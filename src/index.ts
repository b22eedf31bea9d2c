/**
 * advkit's public surface: adversarial-robustness testing for TF.js image
 * classifiers. Browser-safe: nothing here imports a Node-only module (the
 * Node helpers live in `advkit/node`).
 */
export * from './attacks/index.js';
export {
  type BackendName,
  type BackendOptions,
  currentBackend,
  setBackend,
  useKernels,
  wasmThreads,
  withInputOnlyGradients,
} from './backend/index.js';
export * from './data/photos.js';
export { AdvkitError, type ErrorCode, InputError, LoadError, WorkerError } from './errors.js';
export * from './eval/index.js';
export {
  Classifier,
  type ClassifierInfo,
  type ClassifierOptions,
  type ModelFunction,
  type ModelMode,
  type Network,
  type NetworkKind,
  type OutputKind,
} from './model/classifier.js';
export { noPlanReason, useLayerPlans } from './model/layer-plan.js';
export {
  artifactsFormat,
  checksumArtifacts,
  type LoadedClassifier,
  type LoadedNetwork,
  loadClassifierFrom,
  loadClassifierFromOnnx,
  loadClassifierFromUrl,
  loadNetworkFrom,
} from './model/load.js';
export {
  type NetworkAdapter,
  type QueryFunction,
  type QueryOnlyNetwork,
  queryOnly,
} from './model/networks/index.js';
export {
  type ImportOnnxOptions,
  importOnnx,
  type OnnxNetwork,
  SUPPORTED_OPS as ONNX_SUPPORTED_OPS,
} from './model/onnx/index.js';
export type { CustomPreprocess, Normalization, Preprocess } from './model/preprocess.js';
export { validateEpsilons, validateImages, validateLabels } from './model/validate.js';
export * from './report/index.js';
export { type Bounds, clipToBounds, DEFAULT_BOUNDS } from './threat-model/bounds.js';
export {
  crossEntropy,
  cwMargin,
  dlr,
  dlrTargeted,
  LOSS_NAMES,
  type LossName,
  lossByName,
  objective,
  objectiveWithGradient,
} from './threat-model/losses.js';
export {
  getNorm,
  L1,
  L2,
  Linf,
  NORM_NAMES,
  type Norm,
  type NormName,
} from './threat-model/norms.js';
export { checkSeed, createRng, exampleRng, MAX_SEED, type Rng } from './threat-model/rng.js';
export {
  describeGoal,
  type Goal,
  parseTargetRule,
  resolveTargets,
  type TargetRule,
  targeted,
  UNTARGETED,
} from './threat-model/targets.js';
export * from './train/index.js';
