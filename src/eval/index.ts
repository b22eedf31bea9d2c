/**
 * Evaluation: run a suite of attacks over a data set and return report data.
 * Browser-safe; the file checkpoint lives in `checkpoint-node.ts`, worker
 * threads in `workers-node.ts` (both exported from `advkit/node`).
 */
export { memoryCheckpoint } from './checkpoint.js';
export { DEFAULT_ATTACKS, evaluate } from './evaluate.js';
export { type MergeOptions, mergeParts, type NamedPart } from './merge.js';
export {
  attackMetrics,
  CLEAN_ACCURACY_DEFINITION,
  cleanAccuracy,
  ROBUST_ACCURACY_DEFINITION,
  ratio,
  SUCCESS_RATE_DEFINITION,
} from './metrics.js';
export {
  type EvaluationPart,
  evaluateShard,
  PART_KIND,
  PART_VERSION,
  parsePart,
  parseShard,
  partFileName,
  type ResolvedShard,
  type ShardOptions,
  type ShardSpec,
  shardFromEnv,
  shardRange,
} from './shard.js';
export * from './types.js';
export { ADVKIT_VERSION } from './version.js';
