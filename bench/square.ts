/**
 * `npm run bench:square`: what the Square attack costs on `models/mnist-robust`,
 * with the same run's PGD-10 on the same images as the yardstick. Reports
 * examples/s, model queries/s (the sum of every example's queries over the
 * wall time), the time per iteration of the random search, Square's robust
 * accuracy and its query counts, and PGD-10's time and robust accuracy.
 *
 *   npm run bench:square                                  # first 200 test images, ε = 0.3, 5000 queries
 *   npm run bench:square -- --n 1000 --queries 5000 --json
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '../src/data/index.js';
import { PGD, Square, setBackend } from '../src/index.js';
import { loadClassifierFromFile } from '../src/model/load-node.js';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '200' },
    queries: { type: 'string', default: '5000' },
    eps: { type: 'string', default: '0.3' },
    norm: { type: 'string', default: 'linf' },
    seed: { type: 'string', default: '0' },
    'no-rescale': { type: 'boolean', default: false },
    model: { type: 'string', default: 'models/mnist-robust/model.json' },
    json: { type: 'boolean', default: false },
  },
});

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor(s.length / 2)];
};

async function main(): Promise<void> {
  await setBackend('wasm');
  const n = Number(args.n);
  const eps = Number(args.eps);
  const norm = args.norm as 'linf' | 'l2';
  const seed = Number(args.seed);
  const { model } = await loadClassifierFromFile(args.model);
  const data = loadMnist('test', { limit: n });
  const x = tf.tensor4d(data.images, [n, ...data.shape]);
  const labels = data.labels;

  // Warm the kernels (and the layer plan) before either timing.
  tf.dispose(tf.tidy(() => model.logits(x)));

  const before = tf.memory().numTensors;
  let t0 = performance.now();
  const [pgd] = await new PGD({ norm, steps: 10 }).run(model, { x, labels, seed }, [eps]);
  const pgdMs = performance.now() - t0;

  const square = new Square({
    norm,
    queries: Number(args.queries),
    rescaleSchedule: !args['no-rescale'],
  });
  t0 = performance.now();
  const [sq] = await square.run(model, { x, labels, seed }, [eps]);
  const squareMs = performance.now() - t0;
  const queries = sq.queries ?? [];
  const totalQueries = queries.reduce((a, b) => a + b, 0);
  const broken = queries.filter((_, i) => sq.success[i]);
  const robust = (s: boolean[]) => s.filter((v) => !v).length / n;
  const out = {
    model: args.model,
    examples: n,
    norm,
    eps,
    queryBudget: square.queries,
    rescaleSchedule: square.rescaleSchedule,
    backend: tf.getBackend(),
    pgd10: {
      ms: Math.round(pgdMs),
      examplesPerSecond: +(n / (pgdMs / 1000)).toFixed(1),
      robustAccuracy: robust(pgd.success),
    },
    square: {
      ms: Math.round(squareMs),
      examplesPerSecond: +(n / (squareMs / 1000)).toFixed(2),
      queriesPerSecond: Math.round(totalQueries / (squareMs / 1000)),
      msPerIteration: +(squareMs / Math.max(...queries)).toFixed(2),
      totalQueries,
      robustAccuracy: robust(sq.success),
      medianQueriesOfBroken: median(broken),
      meanQueriesOfBroken: +(
        broken.reduce((a, b) => a + b, 0) / Math.max(broken.length, 1)
      ).toFixed(1),
    },
    squareOverPgd10: +(squareMs / pgdMs).toFixed(1),
    brokenBySquareNotPgd10: sq.success.filter((s, i) => s && !pgd.success[i]).length,
  };
  tf.dispose([pgd.xAdv, sq.xAdv]);
  if (tf.memory().numTensors !== before) {
    throw new Error(`PGD-10 and Square leaked ${tf.memory().numTensors - before} tensors`);
  }
  x.dispose();
  model.dispose();
  if (args.json) {
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
  console.log(
    `Square ${norm} ε = ${eps}, ${square.queries} queries, ${n} MNIST test images, ${args.model} (${out.backend})`,
  );
  console.log(
    `PGD-10   ${(pgdMs / 1000).toFixed(1)} s  ${out.pgd10.examplesPerSecond} examples/s  robust ${pct(out.pgd10.robustAccuracy)}`,
  );
  console.log(
    `Square   ${(squareMs / 1000).toFixed(1)} s  ${out.square.examplesPerSecond} examples/s  ${out.square.queriesPerSecond} queries/s  ${out.square.msPerIteration} ms/iteration  robust ${pct(out.square.robustAccuracy)}`,
  );
  console.log(
    `queries of broken examples: median ${out.square.medianQueriesOfBroken}, mean ${out.square.meanQueriesOfBroken}; Square ÷ PGD-10 time ${out.squareOverPgd10}; broken by Square, not PGD-10: ${out.brokenBySquareNotPgd10}`,
  );
}

// Exit explicitly: the wasm backend's uncaughtException handler would dump its source.
main().then(
  () => process.exit(0),
  (e) => {
    console.error(`error: ${(e as Error).message}`);
    process.exit(2);
  },
);
