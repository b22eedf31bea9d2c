/**
 * Goodfellow et al. 2015 on the shipped models, whole MNIST test set:
 *  - §4: shallow softmax regression under FGSM ε = 0.25 → published error 99.9 %
 *  - Fig. 2: logistic regression 3 vs 7 → published clean error 1.6 %, FGSM ε = 0.25 error 99 %
 * Prints published beside measured.  Run: npm run repro:goodfellow
 */
import path from 'node:path';
import { loadMnist } from '../src/data/index.js';
import { evaluate } from '../src/eval/index.js';
import { setBackend } from '../src/index.js';
import { loadClassifierFromFile } from '../src/model/load-node.js';

const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)} %`);

async function fgsmError(model: string, digits?: number[]) {
  const { model: m, checksum } = await loadClassifierFromFile(
    path.join('models', model, 'model.json'),
  );
  const data = loadMnist('test', { digits });
  const r = await evaluate(
    m,
    data,
    { attacks: [{ name: 'fgsm' }], epsilons: [0.25] },
    {
      batchSize: 500,
      modelChecksum: checksum,
      minimalEpsilon: false,
      diagnostics: false,
    },
  );
  m.dispose();
  const clean = r.clean.accuracy.value ?? 0;
  const robust = r.attacks[0].results[0].robustAccuracy.value ?? 0;
  return { n: r.data.examples, cleanError: 1 - clean, advError: 1 - robust };
}

async function run(): Promise<void> {
  await setBackend('wasm');
  const soft = await fgsmError('mnist-softmax');
  const lr = await fgsmError('mnist-logreg-3v7', [3, 7]);
  console.log('Goodfellow, Shlens & Szegedy 2015 — FGSM ε = 0.25, MNIST test, pixels in [0, 1]\n');
  console.log('setting                               examples  published         measured');
  console.log(
    `softmax regression, error under FGSM  ${String(soft.n).padStart(8)}  99.9 %            ${pct(soft.advError)} (clean error ${pct(soft.cleanError)})`,
  );
  console.log(
    `logistic regression 3 vs 7, clean     ${String(lr.n).padStart(8)}  1.6 %             ${pct(lr.cleanError)}`,
  );
  console.log(
    `logistic regression 3 vs 7, FGSM      ${String(lr.n).padStart(8)}  99 %              ${pct(lr.advError)}`,
  );
  console.log(
    '\nerror under FGSM = 1 − robust accuracy (wrong clean or after the attack, over all examples)',
  );
}

// Exit explicitly: the wasm backend's uncaughtException handler would dump its source.
run().then(
  () => process.exit(0),
  (e) => {
    console.error(`error: ${(e as Error).message}`);
    process.exit(2);
  },
);
