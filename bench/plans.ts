/**
 * `npm run bench:plans`: layer plans (`src/model/layer-plan.ts`) against
 * TF.js's autodiff on the same kernels, interleaved call by call in one
 * process so that a machine whose speed drifts affects both alike. Per model:
 * the tfjs-layers forward pass (`model.apply`), the plan's forward pass
 * (`Classifier.logits`), and one FGSM step through the plan and through
 * autodiff, as medians; then FGSM ÷ forward for both and the speed-up.
 *
 *   npm run bench:plans
 *   npm run bench:plans -- --models resnet-small --batch 16 --runs 9 --threads 1
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { Classifier, setBackend, useLayerPlans } from '../src/index.js';
import { type BenchModelName, buildBenchModel } from './models.js';
import { fgsmStep } from './steps.js';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: 'mnist-cnn,resnet-small,mobilenetv2' },
    batch: { type: 'string', default: '64' },
    runs: { type: 'string', default: '21' },
    threads: { type: 'string', default: '2' },
  },
});

const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
const time = (f: () => void) => {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
};

await setBackend('wasm', { threads: Number(args.threads) });
const batch = Number(args.batch);
const rows: string[] = [];
for (const name of (args.models as string).split(',') as BenchModelName[]) {
  const bm = buildBenchModel(name);
  const model = Classifier.create(bm.model);
  const x = tf.randomUniform([batch, ...bm.inputShape], 0, 1, 'float32', 3) as tf.Tensor4D;
  const labels = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % bm.classes),
    'int32',
  );
  const cases: Record<string, () => void> = {
    // `apply`, not `predict`, which cuts the batch into 32s.
    layers: () => tf.dispose(tf.tidy(() => bm.model.apply(x) as tf.Tensor)),
    planForward: () => {
      useLayerPlans(true);
      tf.dispose(model.logits(x));
    },
    plan: () => {
      useLayerPlans(true);
      tf.dispose(fgsmStep(model, x, labels, 0.1));
    },
    autodiff: () => {
      useLayerPlans(false);
      tf.dispose(fgsmStep(model, x, labels, 0.1));
    },
  };
  const times: Record<string, number[]> = Object.fromEntries(
    Object.keys(cases).map((k) => [k, []]),
  );
  // Warm-up: V8 optimises the JS around the kernels over the first tens of calls.
  const start = performance.now();
  for (let i = 0; i < 3 || performance.now() - start < 2000; i++)
    for (const f of Object.values(cases)) f();
  // A large model at batch 64 takes seconds per call: fewer runs.
  const runs = name === 'mobilenetv2' && batch > 16 ? 3 : Number(args.runs);
  for (let r = 0; r < runs; r++) for (const [k, f] of Object.entries(cases)) times[k].push(time(f));
  useLayerPlans(true);
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  const ms = (v: number) => v.toFixed(v < 10 ? 2 : 1);
  rows.push(
    `| ${name} | ${batch} | ${ms(m.layers)} | ${ms(m.planForward)} | ${ms(m.plan)} | ${ms(m.autodiff)} | ${(m.plan / m.layers).toFixed(2)}× | ${(m.plan / m.planForward).toFixed(2)}× | ${(m.autodiff / m.layers).toFixed(2)}× | ${(m.autodiff / m.plan).toFixed(2)}× |`,
  );
  process.stderr.write(`${rows[rows.length - 1]}\n`);
  tf.dispose([x, labels]);
  model.dispose();
  bm.model.dispose();
}
console.log(
  `wasm, ${args.threads} thread(s); medians of interleaved runs, ms\n\n` +
    '| model | batch | tfjs-layers forward | plan forward | FGSM, plan | FGSM, autodiff | FGSM (plan) ÷ tfjs-layers forward | FGSM (plan) ÷ plan forward | FGSM (autodiff) ÷ tfjs-layers forward | autodiff ÷ plan |\n' +
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n' +
    rows.join('\n'),
);
// XNNPACK's worker threads keep Node alive.
process.exit(0);
