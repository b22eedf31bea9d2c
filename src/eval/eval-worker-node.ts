/**
 * Node-only: the entry module of one evaluation worker thread started by
 * `workerThreads` (`workers-node.ts`). It starts its own backend (wasm on one
 * thread, or cpu: whatever the main thread uses), rebuilds the model from what
 * its adapter sent and the plan from the suite and options, says
 * `ready` with both described, then runs whole batches as they arrive, one
 * at a time, each on empty columns, and sends back the columns (or the
 * error). Not imported by anything else at run time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../backend/index.js';
import { AdvkitError, LoadError } from '../errors.js';
import {
  Classifier,
  type ClassifierInfo,
  type ClassifierOptions,
  type Network,
} from '../model/classifier.js';
import { adapterOfKind } from '../model/networks/index.js';
import type { NetworkKind } from '../model/networks/types.js';
import { type Plan, runBatch } from './batch.js';
import { makePlan, planSignature } from './plan.js';
import { type BatchColumns, emptyColumns } from './state.js';
import type { BatchJob, EvaluatePhase, MinimalEpsilonOptions, Suite } from './types.js';

/** `workerData` of an evaluation worker. */
export interface WorkerInit {
  /** For the TypeScript bootstrap (`tsx-worker.mjs`): this module's URL. */
  module?: string;
  backend: 'wasm' | 'cpu';
  /** The network as its kind's adapter sent it (`model/networks/`), and the options to wrap it. */
  model: { kind: NetworkKind; payload: unknown; options: ClassifierOptions };
  suite: Suite;
  seed: number;
  minimalEpsilon?: MinimalEpsilonOptions | false;
  diagnostics: boolean;
}

export interface SerialisedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** Main thread → worker. */
export type ToWorker = { type: 'batch'; job: BatchJob };

/** Worker → main thread. */
export type FromWorker =
  | { type: 'ready'; info: ClassifierInfo; planSignature: string }
  | { type: 'phase'; phase: EvaluatePhase; attack?: string }
  | { type: 'done'; columns: BatchColumns }
  | { type: 'error'; error: SerialisedError };

function serialise(e: unknown): SerialisedError {
  if (e instanceof Error) {
    return {
      name: e.name,
      message: e.message,
      ...(e instanceof AdvkitError ? { code: e.code } : {}),
      ...(e.stack !== undefined ? { stack: e.stack } : {}),
    };
  }
  return { name: 'Error', message: String(e) };
}

const port = parentPort;
if (port == null) throw new Error('eval-worker-node is the entry of a worker thread');
const send = (m: FromWorker) => port.postMessage(m);

async function start(init: WorkerInit): Promise<Plan> {
  await setBackend(init.backend, init.backend === 'wasm' ? { threads: 1 } : {});
  const transfer = adapterOfKind(init.model.kind)?.transfer;
  if (!transfer || 'refused' in transfer) {
    throw new AdvkitError('WORKER', `a ${init.model.kind} network cannot be received by a worker`);
  }
  let network: unknown;
  try {
    network = await transfer.receive(init.model.payload);
  } catch (e) {
    if (e instanceof AdvkitError) throw e;
    throw new LoadError(
      'MODEL_LOAD',
      `the model sent to the worker is not a loadable ${init.model.kind}: ${(e as Error).message}`,
      e,
    );
  }
  const model = Classifier.create(network as Network, init.model.options);
  return makePlan(model, init.suite, init.seed, {
    minimalEpsilon: init.minimalEpsilon,
    diagnostics: init.diagnostics,
  });
}

async function run(plan: Plan, job: BatchJob): Promise<BatchColumns> {
  const columns = emptyColumns(plan.attacks.length, plan.epsilons.length);
  const x = tf.tensor4d(job.pixels, [job.labels.length, ...plan.model.inputShape]);
  try {
    await runBatch(
      { ...plan, exampleImages: job.exampleImages },
      columns,
      { x, pixels: job.pixels, labels: job.labels, indices: job.indices },
      (phase, attack) => send({ type: 'phase', phase, attack }),
    );
  } finally {
    x.dispose();
  }
  return columns;
}

try {
  const plan = await start(workerData as WorkerInit);
  port.on('message', (m: ToWorker) => {
    run(plan, m.job).then(
      (columns) => send({ type: 'done', columns }),
      (e: unknown) => send({ type: 'error', error: serialise(e) }),
    );
  });
  send({ type: 'ready', info: plan.model.info, planSignature: planSignature(plan) });
} catch (e) {
  send({ type: 'error', error: serialise(e) });
}
