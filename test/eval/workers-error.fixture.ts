/**
 * Run by `workers.test.ts` in a child process: an evaluation on two worker
 * threads whose second batch fails inside a worker (the target list is too
 * short). Prints the error it catches as JSON and returns without
 * `process.exit`: the process must end on its own, so no worker is left.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setBackend } from '../../src/backend/index.js';
import { loadMnist } from '../../src/data/index.js';
import { evaluate } from '../../src/eval/index.js';
import { workerThreads } from '../../src/eval/workers-node.js';
import { type AdvkitError, targeted } from '../../src/index.js';
import { loadClassifierFromFile } from '../../src/model/load-node.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
await setBackend('wasm', { threads: 1 });
const { model } = await loadClassifierFromFile(
  path.join(root, 'models', 'mnist-cnn', 'model.json'),
);
try {
  // Examples 0–19 have targets; example 20, in batch 1 (16–31), has none.
  await evaluate(
    model,
    loadMnist('test', { limit: 48 }),
    {
      epsilons: [0.1],
      attacks: [{ name: 'fgsm' }],
      goal: targeted({ kind: 'list', targets: new Array(20).fill(1) }),
    },
    { batchSize: 16, minimalEpsilon: false, executor: workerThreads(2) },
  );
  console.log(JSON.stringify({ error: null }));
} catch (e) {
  const err = e as AdvkitError;
  console.log(JSON.stringify({ name: err.name, code: err.code, message: err.message }));
}
