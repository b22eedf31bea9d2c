/**
 * Node-only: what crosses between the main thread and the evaluation
 * workers (`workers-node.ts`). Out: the network as its adapter sends it
 * (`model/networks/`: TF.js artifacts, ONNX bytes…) plus the options to
 * wrap it again, the suite and plan options — checked first, so anything
 * that cannot be sent is an InputError naming it. Back: a worker's error,
 * rethrown as one of advkit's error classes.
 */
import * as tf from '@tensorflow/tfjs';
import { AdvkitError, ERROR_CODES, InputError, LoadError, WorkerError } from '../errors.js';
import type { Classifier, ClassifierOptions } from '../model/classifier.js';
import { isNormalization } from '../model/preprocess.js';
import type { SerialisedError, WorkerInit } from './eval-worker-node.js';
import type { EvaluationJob } from './types.js';

/** A worker's error as one of advkit's error classes, naming the worker and the batch. */
export function rethrown(e: SerialisedError, where: string): AdvkitError {
  const inner = new Error(e.message);
  inner.name = e.name;
  if (e.stack !== undefined) inner.stack = e.stack;
  const code = ERROR_CODES.find((c) => c === e.code);
  if (code === undefined || code === 'WORKER') {
    return new WorkerError(`${where} failed: ${e.name}: ${e.message}`, inner);
  }
  const message = `${where}: ${e.message}`;
  if (e.name === 'InputError') return new InputError(code, message);
  if (e.name === 'LoadError' && (code === 'MODEL_LOAD' || code === 'DATA_LOAD')) {
    return new LoadError(code, message, inner);
  }
  return new AdvkitError(code, message, { cause: inner });
}

/** Where `value` holds something a worker cannot be sent (a function, a class instance), or undefined. */
export function unsendable(value: unknown, path: string): string | undefined {
  if (typeof value === 'function') return `${path} is a function`;
  if (typeof value === 'symbol') return `${path} is a symbol`;
  if (value === null || typeof value !== 'object') return undefined;
  if (ArrayBuffer.isView(value)) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unsendable(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    return `${path} is a ${(value as object).constructor?.name ?? 'class'} object`;
  }
  for (const [k, v] of Object.entries(value)) {
    const found = unsendable(v, `${path}.${k}`);
    if (found) return found;
  }
  return undefined;
}

/** The network as its adapter sends it, with everything else the worker needs; InputError when it cannot be sent. */
export async function workerInit(job: EvaluationJob): Promise<WorkerInit> {
  const backend = tf.getBackend();
  if (backend !== 'wasm' && backend !== 'cpu') {
    throw new InputError(
      'BACKEND',
      `workerThreads: this thread runs TF.js backend ${JSON.stringify(backend)}, but the workers run wasm or cpu and must run the same one (for identical results); call setBackend('wasm') or setBackend('cpu') first`,
    );
  }
  const where = unsendable(job.suite, 'suite') ?? unsendable(job.minimalEpsilon, 'minimalEpsilon');
  if (where) {
    throw new InputError(
      'INVALID_OPTION',
      `workerThreads: ${where}, which cannot be sent to a worker thread (a surrogate model for a transfer attack stays on this thread); evaluate without workers`,
    );
  }
  const model = job.model;
  const pre = model.preprocess;
  if (pre !== undefined && !isNormalization(pre)) {
    throw new InputError(
      'INVALID_OPTION',
      `workerThreads: the model's preprocess ${JSON.stringify(pre.name)} is a function, which cannot be sent to a worker thread; use { mean, std }, build the preprocessing into the network, or evaluate without workers`,
    );
  }
  const options: ClassifierOptions = {
    bounds: [...model.info.bounds],
    ...(pre ? { preprocess: { mean: Array.from(pre.mean), std: Array.from(pre.std) } } : {}),
    mode: model.info.mode,
    output: model.info.output,
    numClasses: model.info.numClasses,
    inputShape: [...model.info.inputShape],
    name: model.info.name,
  };
  return {
    backend,
    model: { kind: model.info.kind, payload: await sentNetwork(model), options },
    suite: job.suite,
    seed: job.seed,
    ...(job.minimalEpsilon !== undefined ? { minimalEpsilon: job.minimalEpsilon } : {}),
    diagnostics: job.diagnostics,
  };
}

/** The network's payload for a worker, from its adapter; InputError for a kind that cannot travel. */
function sentNetwork(model: Classifier): Promise<unknown> {
  const transfer = model.adapter.transfer;
  if ('refused' in transfer) {
    throw new InputError(
      'INVALID_OPTION',
      `workerThreads: the model ${JSON.stringify(model.info.name)} ${transfer.refused}`,
    );
  }
  return transfer.send(model.network, model.info.name);
}
