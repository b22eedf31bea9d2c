/**
 * `npm run bench:parallel`: the two ways to use both cores, side by side in
 * one run on the same model and data —
 *
 * - intra-op threads: one process, XNNPACK on `--threads` threads
 *   (`setBackend('wasm', { threads })`);
 * - data parallelism: `--workers` worker threads, each with its own
 *   single-threaded wasm backend and copy of the model, splitting each batch
 *   (FGSM step, training step) or the data set (evaluation).
 *
 * Measured: one FGSM step on a batch, an FGSM evaluation of a data set
 * (examples per second), and one FGSM-RS training step (data-parallel:
 * every worker's weight gradients averaged on the main thread and applied
 * by every worker, so the replicas stay identical). Times include moving
 * the examples and gradients between threads.
 *
 *   npm run bench:parallel -- --model mnist-cnn --batch 64 --examples 2048
 */
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { setBackend, wasmThreads } from '../src/backend/index.js';
import { Classifier, createRng, FGSM } from '../src/index.js';
import { type BenchModelName, buildBenchModel } from './models.js';
import { fgsmRsStep, fgsmStep } from './steps.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'mnist-cnn' },
    batch: { type: 'string', default: '64' },
    examples: { type: 'string', default: '2048' },
    threads: { type: 'string', default: '2' },
    workers: { type: 'string', default: '2' },
    runs: { type: 'string', default: '7' },
    json: { type: 'boolean', default: false },
  },
});
const name = args.model as BenchModelName;
const batch = Number(args.batch);
const examples = Number(args.examples);
const runs = Number(args.runs);
const eps = 0.1;

async function median(fn: () => Promise<unknown> | unknown, n = runs): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

function data(count: number, shape: number[], classes: number) {
  const rng = createRng(7);
  const d = shape.reduce((a, b) => a * b, 1);
  return {
    x: Float32Array.from({ length: count * d }, () => rng.next()),
    labels: Int32Array.from({ length: count }, () => rng.int(classes)),
    d,
  };
}

async function intraOp(threads: number, weights: Float32Array[]) {
  await setBackend('wasm', { threads });
  const bm = buildBenchModel(name);
  bm.model.setWeights(weights.map((w, i) => tf.tensor(w, bm.model.getWeights()[i].shape)));
  const model = Classifier.create(bm.model);
  const { x: xs, labels: ls, d } = data(examples, bm.inputShape, bm.classes);
  const x = tf.tensor(xs.subarray(0, batch * d), [batch, ...bm.inputShape]) as tf.Tensor4D;
  const labels = tf.tensor1d(ls.subarray(0, batch), 'int32');
  const fgsm = await median(() => fgsmStep(model, x, labels, eps).dispose());
  const evalMs = await median(async () => {
    for (let s = 0; s < examples; s += batch) {
      const e = Math.min(examples, s + batch);
      const xb = tf.tensor(xs.subarray(s * d, e * d), [e - s, ...bm.inputShape]) as tf.Tensor4D;
      const [r] = await new FGSM().run(model, { x: xb, labels: Array.from(ls.subarray(s, e)) }, [
        eps,
      ]);
      r.xAdv.dispose();
      xb.dispose();
    }
  }, 1);
  const opt = tf.train.sgd(0.01);
  const train = await median(() => {
    const grads = fgsmRsStep(model, bm.model, x, labels, bm.classes, eps);
    const vars = bm.model.trainableWeights.map((w) => w.read() as tf.Variable);
    opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[i] })));
    tf.dispose(grads);
  });
  tf.dispose([x, labels]);
  opt.dispose();
  model.dispose();
  bm.model.dispose();
  return { label: `1 process, wasm ${wasmThreads()} threads`, fgsm, evalMs, train };
}

class Pool {
  private constructor(private readonly workers: Worker[]) {}

  static async start(count: number, weights: Float32Array[]): Promise<Pool> {
    const workers = Array.from(
      { length: count },
      () =>
        new Worker(new URL('../src/eval/tsx-worker.mjs', import.meta.url), {
          workerData: {
            module: new URL('./data-parallel-worker.ts', import.meta.url).href,
            model: name,
            weights,
            eps,
          },
        }),
    );
    await Promise.all(workers.map((w) => reply(w)));
    return new Pool(workers);
  }

  /** Send one job per worker and wait for every reply. */
  all<T>(jobs: object[]): Promise<T[]> {
    return Promise.all(
      this.workers.map((w, i) => {
        const r = reply<T>(w);
        w.postMessage(jobs[i]);
        return r;
      }),
    );
  }

  get size(): number {
    return this.workers.length;
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function reply<T>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    w.once('error', onError);
    w.once('message', (m: T) => {
      w.off('error', onError);
      resolve(m);
    });
  });
}

/** Contiguous shares of `count` items, one per worker. */
function shares(count: number, parts: number): [number, number][] {
  return Array.from({ length: parts }, (_, i) => [
    Math.floor((i * count) / parts),
    Math.floor(((i + 1) * count) / parts),
  ]);
}

async function dataParallel(workers: number, weights: Float32Array[]) {
  const bm = buildBenchModel(name);
  const { x: xs, labels: ls, d } = data(examples, bm.inputShape, bm.classes);
  bm.model.dispose();
  const pool = await Pool.start(workers, weights);
  const split = shares(batch, pool.size);
  const batchJobs = (kind: string) =>
    split.map(([s, e]) => ({
      kind,
      x: xs.slice(s * d, e * d),
      labels: ls.slice(s, e),
    }));
  const fgsm = await median(async () => {
    const parts = await pool.all<Float32Array>(batchJobs('fgsm'));
    const out = new Float32Array(batch * d);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
  });
  const evalMs = await median(
    () =>
      pool.all<number>(
        shares(examples, pool.size).map(([s, e]) => ({
          kind: 'eval',
          x: xs.slice(s * d, e * d),
          labels: ls.slice(s, e),
          batch,
        })),
      ),
    1,
  );
  const train = await median(async () => {
    const perWorker = await pool.all<Float32Array[]>(batchJobs('grads'));
    // Each worker's gradient is its share's mean; weight by share size.
    const mean = perWorker[0].map((g, j) => {
      const sum = new Float32Array(g.length);
      perWorker.forEach((grads, w) => {
        const weight = (split[w][1] - split[w][0]) / batch;
        const gj = grads[j];
        for (let k = 0; k < sum.length; k++) sum[k] += weight * gj[k];
      });
      return sum;
    });
    await pool.all(split.map(() => ({ kind: 'apply', grads: mean })));
  });
  await pool.stop();
  return { label: `${workers} workers × wasm 1 thread`, fgsm, evalMs, train };
}

async function main(): Promise<void> {
  await setBackend('wasm', { threads: 1 });
  const bm = buildBenchModel(name);
  const weights = bm.model.getWeights().map((w) => w.dataSync() as Float32Array);
  bm.model.dispose();
  const rows = [
    await intraOp(1, weights),
    await intraOp(Number(args.threads), weights),
    await dataParallel(Number(args.workers), weights),
  ];
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ model: name, batch, examples, rows }, null, 1)}\n`);
    return;
  }
  const base = rows[0];
  console.log(
    `${name}, batch ${batch}, FGSM evaluation of ${examples} examples; ms are medians of ${runs} runs after warm-up (evaluation: one run)\n`,
  );
  console.log(
    '| setup | FGSM step ms | speed-up | evaluation examples/s | speed-up | FGSM-RS train step ms | speed-up |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const eps = (examples / r.evalMs) * 1000;
    console.log(
      `| ${r.label} | ${r.fgsm.toFixed(1)} | ${(base.fgsm / r.fgsm).toFixed(2)}× | ${eps.toFixed(0)} | ${(base.evalMs / r.evalMs).toFixed(2)}× | ${r.train.toFixed(1)} | ${(base.train / r.train).toFixed(2)}× |`,
    );
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`bench: ${(e as Error).stack}`);
    process.exit(1);
  },
);
