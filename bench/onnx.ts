/**
 * `npm run bench:onnx`: a torchvision ONNX export (ResNet-18 at 224 × 224,
 * random seeded weights, made by `npm run fixtures:onnx -- --full resnet18`
 * into fixtures-large/) under advkit and under PyTorch's CPU build on the
 * same weights, in one run. advkit: the forward pass (`Classifier.logits`),
 * one FGSM step through the ONNX plan (the input gradient of the summed
 * cross-entropy through the ImageNet normalisation, a signed step, clipping:
 * `fgsmStep`, the work of `new FGSM().run` before it checks the result) and
 * through TF.js's autodiff, interleaved call by call, as medians; `FGSM.run`
 * itself, which adds a forward pass on the adversarial batch. Then a
 * per-step profile of the plan's pass (forward and backward time per node).
 * PyTorch (bench/onnx_torch.py) rebuilds the network with the export
 * script's seed, checks its logits against the fixture's and times the same
 * two cases at 1 thread (advkit's wasm runs one under Node) and at all cores.
 *
 *   npm run bench:onnx
 *   npm run bench:onnx -- --model fixtures-large/resnet18 --batch 16 --runs 5 --threads 1
 *   npm run bench:onnx -- --no-torch --no-autodiff --profile-runs 1
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { Classifier, FGSM, setBackend, useLayerPlans } from '../src/index.js';
import { importOnnx } from '../src/model/onnx/index.js';
import { onnxPlan } from '../src/model/onnx/plan.js';
import type { Step } from '../src/model/step-graph.js';
import { fgsmStep } from './steps.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'fixtures-large/resnet18' },
    batch: { type: 'string', default: '16' },
    runs: { type: 'string', default: '5' },
    'autodiff-runs': { type: 'string', default: '3' },
    'profile-runs': { type: 'string', default: '2' },
    threads: { type: 'string', default: '1' },
    'no-torch': { type: 'boolean', default: false },
    'no-autodiff': { type: 'boolean', default: false },
  },
});

const dir = args.model as string;
const file = join(dir, 'model.onnx');
if (!existsSync(file)) {
  console.error(
    `${file} not found: make it with  npm run fixtures:onnx -- --full ${basename(dir)}`,
  );
  process.exit(1);
}
const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as {
  name: string;
  seed: number;
  mean: number[];
  std: number[];
  numClasses: number;
  input: { shape: number[] };
};
const threads = Number(args.threads);
await setBackend('wasm', { threads });
const net = await importOnnx(new Uint8Array(readFileSync(file)), { where: file });
const model = Classifier.create(net, { preprocess: { mean: ref.mean, std: ref.std } });
const [h, w, c] = net.inputShape;
const batch = Number(args.batch);
const x = tf.randomUniform([batch, h, w, c], 0, 1, 'float32', 3) as tf.Tensor4D;
const labels = tf.tensor1d(
  Array.from({ length: batch }, (_, i) => i % ref.numClasses),
  'int32',
);
const eps = 2 / 255;

const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];
const time = (f: () => void) => {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
};
const timeAsync = async (f: () => Promise<void>) => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

const cases: Record<string, () => void> = {
  forward: () => tf.dispose(model.logits(x)),
  plan: () => {
    useLayerPlans(true);
    tf.dispose(fgsmStep(model, x, labels, eps));
  },
  autodiff: () => {
    useLayerPlans(false);
    tf.dispose(fgsmStep(model, x, labels, eps));
  },
};
if (args['no-autodiff']) delete cases.autodiff;
const runs = Number(args.runs);
const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
// Warm-up: XNNPACK packs each filter on its first call.
for (const f of Object.values(cases)) f();
for (let r = 0; r < runs; r++)
  for (const [name, f] of Object.entries(cases))
    if (name !== 'autodiff' || r < Number(args['autodiff-runs'])) times[name].push(time(f));
useLayerPlans(true);
const fgsmRun: number[] = [];
for (let r = 0; r < Math.min(3, runs); r++)
  fgsmRun.push(
    await timeAsync(async () => {
      for (const res of await new FGSM().run(model, { x, labels }, [eps])) res.xAdv.dispose();
    }),
  );

/* ---------- per-step profile of the plan's pass ---------- */

const profile = new Map<string, { op: string; forward: number; backward: number }>();
const opOf = new Map(net.graph.nodes.map((n) => [n.name, n.op]));
const timed = (name: string, step: Step): Step => {
  const entry = {
    op: name
      .split('+')
      .map((p) => opOf.get(p) ?? '?')
      .join('+'),
    forward: 0,
    backward: 0,
  };
  profile.set(name, entry);
  // wasm and cpu kernels run synchronously: timing the call is timing the
  // work (reading the result back would add a copy of every tensor).
  const asyncBackend = !['wasm', 'cpu'].includes(tf.getBackend());
  const sync = (t: tf.Tensor | tf.Tensor[]) => {
    if (asyncBackend) for (const u of [t].flat()) u.dataSync();
  };
  return {
    ...step,
    forward(xs) {
      const t0 = performance.now();
      const r = step.forward(xs);
      sync(r.y);
      entry.forward += performance.now() - t0;
      return r;
    },
    backward(dy, saved, shapes) {
      const t0 = performance.now();
      const r = step.backward(dy, saved, shapes);
      sync(r);
      entry.backward += performance.now() - t0;
      return r;
    },
    unmaskedBackward: step.unmaskedBackward,
  };
};
const profiled = onnxPlan(net, { instrument: timed });
const profileRuns = Number(args['profile-runs']);
if (typeof profiled !== 'string' && profileRuns > 0) {
  const input = model.networkInput(x);
  for (let r = 0; r < profileRuns; r++) {
    const pass = profiled.run(input);
    const dOut = tf.onesLike(pass.output);
    tf.dispose([pass.backward(dOut), dOut, pass.output]);
  }
  input.dispose();
}

/* ---------- PyTorch ---------- */

interface TorchOut {
  torch: string;
  defaultThreads: number;
  check?: { maxAbsLogitDiff: number };
  results: { threads: number; forwardMs: number; fgsmMs: number }[];
}
let torch: TorchOut | string = 'not run (--no-torch)';
if (!args['no-torch']) {
  const py = '/usr/bin/python3';
  const req = {
    name: ref.name,
    seed: ref.seed,
    size: h,
    batch,
    runs,
    threads: [1, availableParallelism()],
    reference: dir,
  };
  const res = spawnSync(py, [new URL('./onnx_torch.py', import.meta.url).pathname], {
    input: JSON.stringify(req),
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    // glibc's malloc kept to its heap: by default each freed activation is
    // returned to the system and faulted in again (see bench/attacks.ts).
    env: { ...process.env, MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: String(2 ** 34) },
  });
  torch =
    res.status === 0
      ? (JSON.parse(res.stdout) as TorchOut)
      : `failed (${res.status}): ${(res.stderr || res.error?.message || '').trim().split('\n').at(-1)}`;
}

/* ---------- report ---------- */

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
const fwd = median(times.forward);
const plan = median(times.plan);
console.log(
  `\n${ref.name} ${h}×${w}, batch ${batch}, wasm ${threads} thread(s), ${net.nodeCount} ONNX nodes; medians of ${runs} (autodiff ${Math.min(runs, Number(args['autodiff-runs']))})\n`,
);
console.log('| | forward ms | FGSM step ms | FGSM ÷ forward |');
console.log('| --- | --- | --- | --- |');
console.log(`| advkit, ONNX plan | ${ms(fwd)} | ${ms(plan)} | ${(plan / fwd).toFixed(2)}× |`);
if (times.autodiff) {
  const a = median(times.autodiff);
  console.log(
    `| advkit, TF.js autodiff | ${ms(fwd)} | ${ms(a)} | ${(a / fwd).toFixed(2)}× (plan ${(a / plan).toFixed(2)}× faster) |`,
  );
}
console.log(
  `| advkit, \`new FGSM().run\` (step + checking the result) | ${ms(fwd)} | ${ms(median(fgsmRun))} | ${(median(fgsmRun) / fwd).toFixed(2)}× |`,
);
if (typeof torch === 'string') console.log(`\nPyTorch: ${torch}`);
else {
  for (const r of torch.results)
    console.log(
      `| PyTorch ${torch.torch}, ${r.threads} thread(s) | ${ms(r.forwardMs)} | ${ms(r.fgsmMs)} | ${(r.fgsmMs / r.forwardMs).toFixed(2)}× |`,
    );
  const one = torch.results.find((r) => r.threads === threads) ?? torch.results[0];
  console.log(
    `\nadvkit ÷ PyTorch at ${one.threads} thread(s): forward ${(fwd / one.forwardMs).toFixed(2)}×, FGSM ${(plan / one.fgsmMs).toFixed(2)}×; ` +
      `same weights: PyTorch's logits on the fixture's input within ${torch.check?.maxAbsLogitDiff ?? '?'} of the saved ones (torch default threads: ${torch.defaultThreads})`,
  );
}
if (profile.size > 0 && profileRuns > 0) {
  const rows = [...profile.entries()].map(([name, e]) => ({
    name,
    ...e,
    total: e.forward + e.backward,
  }));
  const total = rows.reduce((s, r) => s + r.total, 0);
  const byOp = new Map<string, { forward: number; backward: number }>();
  for (const r of rows) {
    const o = byOp.get(r.op) ?? { forward: 0, backward: 0 };
    o.forward += r.forward / profileRuns;
    o.backward += r.backward / profileRuns;
    byOp.set(r.op, o);
  }
  console.log(
    `\nPer-step profile of the plan's pass (forward + backward, ${ms(total / profileRuns)} ms a pass):\n`,
  );
  console.log('| op | forward ms | backward ms | share |');
  console.log('| --- | --- | --- | --- |');
  for (const [op, o] of [...byOp.entries()].sort(
    (a, b) => b[1].forward + b[1].backward - a[1].forward - a[1].backward,
  ))
    console.log(
      `| ${op} | ${ms(o.forward)} | ${ms(o.backward)} | ${((100 * (o.forward + o.backward) * profileRuns) / total).toFixed(1)} % |`,
    );
  console.log('\nSlowest steps:\n');
  for (const r of rows.sort((a, b) => b.total - a.total).slice(0, 8))
    console.log(
      `  ${r.name} (${r.op}): forward ${ms(r.forward / profileRuns)} ms, backward ${ms(r.backward / profileRuns)} ms`,
    );
}
tf.dispose([x, labels]);
