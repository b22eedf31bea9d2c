/**
 * What `advkit eval` loads before it evaluates, whole or as one shard: the
 * backend, the model, the data (checked against the model's bounds and the
 * ε list) and the evaluate options that follow from the flags. One place,
 * so a shard's checks cannot drift from a whole run's.
 */
import type { Dataset } from '../data/dataset.js';
import type { CheckpointStore, EvaluateOptions } from '../eval/types.js';
import { workerThreads } from '../eval/workers-node.js';
import type { Classifier } from '../model/classifier.js';
import { loadClassifierFromFile } from '../model/load-node.js';
import { checkRunInputs } from './checks.js';
import type { EvalFlags } from './commands/eval.js';
import { loadData } from './data.js';
import { mainThreads, modelOptions, startBackend } from './options.js';
import { type Progress, progressBar } from './progress.js';

export interface EvalInputs {
  model: Classifier;
  data: Dataset;
  options: EvaluateOptions;
  /** Stop it when the evaluation ends, whatever happens. */
  bar: Progress;
}

/**
 * `checkpoint` is called once the model and data have loaded and passed their
 * checks, so a run refused for bad input leaves the folder's checkpoint alone.
 */
export async function loadEvalInputs(
  o: EvalFlags,
  checkpoint: () => CheckpointStore,
  quiet: boolean,
): Promise<EvalInputs> {
  await startBackend(o.backend, mainThreads(o));
  const { model, checksum } = await loadClassifierFromFile(o.model, modelOptions(o));
  const data = await loadData({ ...o, limit: o.limit }, model);
  checkRunInputs(data, model, o.eps, o.norm);
  const bar = progressBar(quiet);
  const options: EvaluateOptions = {
    batchSize: o['batch-size'],
    seed: o.seed,
    modelChecksum: checksum,
    checkpoint: checkpoint(),
    minimalEpsilon: o['no-minimal-eps'] ? false : undefined,
    ...(o.workers !== undefined ? { executor: workerThreads(o.workers) } : {}),
    onProgress: (e) =>
      bar.update(e.examplesDone, e.examples, `${e.phase}${e.attack ? ` ${e.attack}` : ''}`),
  };
  return { model, data, options, bar };
}
