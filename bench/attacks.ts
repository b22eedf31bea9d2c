/**
 * `npm run bench`: what an attack costs, per model, batch size and backend,
 * measured side by side in one run (median of several runs after warm-up):
 * forward ms, FGSM ms (the step alone, like the reference, and the full
 * `FGSM.run` that also validates and judges), FGSM/forward, PGD-10 ms, one
 * FGSM-RS adversarial-training step (random start, one FGSM step, one SGD
 * step on the adversarial batch), memory; and the same architectures, FGSM
 * and training step in PyTorch on CPU when Debian's python3-torch is
 * installed, with advkit's times divided by PyTorch's — forward and FGSM
 * separately, so a remaining gap shows whether it is the forward pass or
 * the gradient.
 *
 * Backends: `wasm-2t` / `wasm-1t` (advkit's kernels, XNNPACK threads),
 * `wasm-2t-autodiff` (the same kernels through TF.js's autodiff instead of
 * the layer plans of `src/model/layer-plan.ts`), `wasm-stock` (TF.js's
 * own kernels and gradients, one thread), `cpu`.
 * Every figure is a median after warm-up; on a shared machine they move
 * from run to run, which is why all columns come from one process.
 *
 *   npm run bench                       # all models, batch 1 and 64, all backends
 *   npm run bench -- --models mnist-cnn --batches 64 --backends wasm-2t,wasm-1t --json
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { useKernels, wasmThreads } from '../src/backend/index.js';
import { type BackendName, Classifier, createRng, FGSM, PGD, setBackend } from '../src/index.js';
import { useLayerPlans } from '../src/model/layer-plan.js';
import { type BenchModelName, buildBenchModel } from './models.js';
import { fgsmRsStep, fgsmStep } from './steps.js';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: 'mnist-cnn,resnet-small,mobilenetv2' },
    batches: { type: 'string', default: '1,64' },
    backends: { type: 'string', default: 'wasm-2t,wasm-1t,wasm-stock,cpu' },
    runs: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
    'no-torch': { type: 'boolean', default: false },
  },
});

interface Row {
  model: string;
  batch: number;
  backend: string;
  metric: string;
  value: number | null;
  unit: string;
  note?: string;
}
const rows: Row[] = [];
const log = (s: string) => {
  if (!args.json) process.stderr.write(`${s}\n`);
};

/**
 * Median wall time of `runs` calls after a warm-up of at least three calls
 * and one second; throws if a timed call leaks tensors. V8 optimises the JS
 * around the kernels over the first calls of a process: the MNIST CNN's
 * FGSM step took 18–29 ms over its first 30 calls and 14 ms from the 60th.
 */
async function medianMs(fn: () => Promise<void> | void, runs: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < 3 || performance.now() - start < 1000; i++) await fn();
  const before = tf.memory().numTensors;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  if (tf.memory().numTensors !== before)
    throw new Error(`leaked ${tf.memory().numTensors - before} tensors`);
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * Work not timed here, with the reason: minutes per call on a shared
 * two-core machine (the cpu backend beyond the MNIST CNN and its PGD-10 at
 * batch 64; MobileNetV2's PGD-10 at batch 64; TF.js's stock kernels on
 * MobileNetV2 beyond the forward pass and the FGSM step at batch 1), or
 * memory: a MobileNetV2 training step at batch 64 needs more than the wasm
 * heap's 4 GiB (TF.js keeps every activation and gradient of the backward
 * pass; attacks split such batches, a training step cannot).
 */
function skipReason(
  model: BenchModelName,
  backend: string,
  batch: number,
  metric: string,
): string | undefined {
  const slow = 'skipped: too slow to time here';
  if (backend === 'cpu' && model !== 'mnist-cnn')
    return batch > 1 || !['forward', 'fgsmStep'].includes(metric) ? slow : undefined;
  if (backend === 'cpu' && batch > 1 && metric === 'pgd10') return slow;
  if (model !== 'mobilenetv2') return undefined;
  if (backend === 'wasm-stock')
    return batch > 1
      ? metric === 'forward'
        ? undefined
        : slow
      : ['forward', 'fgsmStep'].includes(metric)
        ? undefined
        : slow;
  if (batch > 1 && metric === 'pgd10') return slow;
  if (batch > 16 && metric === 'trainStep') return 'skipped: needs more than the 4 GiB wasm heap';
  return undefined;
}

/** Start a bench backend (`wasm-<n>t`, `wasm-stock`, `cpu`, …); returns its label. */
async function startBackend(spec: string): Promise<string> {
  const threads = /^wasm-(\d+)t(-autodiff)?$/.exec(spec);
  if (threads) {
    await setBackend('wasm', { threads: Number(threads[1]) });
    useKernels('advkit');
    useLayerPlans(!threads[2]);
    return `wasm-${wasmThreads()}t${threads[2] ?? ''}`;
  }
  useLayerPlans(true);
  if (spec === 'wasm-stock') {
    await setBackend('wasm', { threads: 1 });
    useKernels('stock');
    return spec;
  }
  useKernels('advkit');
  return setBackend(spec as BackendName);
}

async function benchCase(
  name: BenchModelName,
  backend: string,
  batch: number,
  runs: number,
): Promise<void> {
  const bm = buildBenchModel(name);
  const model = Classifier.create(bm.model);
  const rng = createRng(batch);
  const x = tf.tensor4d(
    Float32Array.from({ length: batch * bm.inputShape.reduce((a, b) => a * b) }, () => rng.next()),
    [batch, ...bm.inputShape],
  );
  const labelsArr = Array.from({ length: batch }, () => rng.int(bm.classes));
  const labels = tf.tensor1d(labelsArr, 'int32');
  const eps = 0.1;
  const n = batch > 8 || name === 'mobilenetv2' ? Math.max(2, Math.ceil(runs / 2)) : runs;
  const record = (metric: string, value: number | null, unit = 'ms', note?: string) => {
    rows.push({ model: name, batch, backend, metric, value, unit, note });
    log(
      `  ${name.padEnd(13)} b=${String(batch).padEnd(3)} ${backend.padEnd(5)} ${metric.padEnd(14)} ${value === null ? note : `${unit === 'B' ? `${(value / 2 ** 20).toFixed(1)} MiB` : `${value.toFixed(2)} ${unit}`}`}`,
    );
  };
  const time = async (metric: string, fn: () => Promise<void> | void) => {
    const skip = skipReason(name, backend, batch, metric);
    if (skip) return record(metric, null, 'ms', skip);
    try {
      const ms = await medianMs(fn, n);
      record(metric, ms);
      return ms;
    } catch (e) {
      record(metric, null, 'ms', `failed: ${(e as Error).message.split('\n')[0]}`);
    }
  };
  const fwd = await time('forward', () => {
    const z = model.logits(x);
    z.dataSync();
    z.dispose();
  });
  const step = await time('fgsmStep', () => {
    const out = fgsmStep(model, x, labels, eps);
    out.dataSync();
    out.dispose();
  });
  await time('fgsmRun', async () => {
    const [r] = await new FGSM().run(model, { x: x as tf.Tensor4D, labels: labelsArr }, [eps]);
    r.xAdv.dispose();
  });
  if (fwd && step) record('fgsmStep/forward', step / fwd, '×');
  await time('pgd10', async () => {
    const [r] = await new PGD({ steps: 10, randomStart: true }).run(
      model,
      { x: x as tf.Tensor4D, labels: labelsArr },
      [eps],
    );
    r.xAdv.dispose();
  });
  const opt = tf.train.sgd(0.01);
  const vars = bm.model.trainableWeights.map((w) => w.read() as tf.Variable);
  await time('trainStep', () => {
    // FGSM-RS (Wong et al. 2020), then one SGD step on the adversarial batch.
    const grads = fgsmRsStep(model, bm.model, x, labels, bm.classes, eps);
    opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[i] })));
    grads[0].dataSync();
    tf.dispose(grads);
  });
  opt.dispose();
  record('tensorBytes', tf.memory().numBytes, 'B');
  // Process-wide peak resident memory so far (it only grows within a run).
  record('peakRss', process.resourceUsage().maxRSS * 1024, 'B');
  tf.dispose([x, labels]);
  model.dispose();
  bm.model.dispose();
}

function torchReference(
  cases: { model: string; batch: number }[],
  threads: number,
  runs: number,
): Row[] {
  const py = '/usr/bin/python3';
  if (args['no-torch'] || !existsSync(py)) return [];
  const probe = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    log(
      'PyTorch reference skipped: python3-torch is not installed (apt-get install python3-torch)',
    );
    return [];
  }
  // One process per case: a case's allocations otherwise shape the heap the
  // next one runs in (PyTorch's MobileNetV2 batch-64 forward pass took 2.7 s
  // after the smaller cases, 0.45–0.55 s alone).
  const results: unknown[] = [];
  for (const c of cases) {
    const res = spawnSync(py, [new URL('./torch_reference.py', import.meta.url).pathname], {
      input: JSON.stringify({ threads, runs, cases: [c] }),
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      // By default glibc serves every allocation above 128 KiB – 32 MiB with
      // its own mmap and returns it on free, so each forward pass faults its
      // activations back in page by page: PyTorch's ResNet forward took
      // 33–38 ms here against 7–10 ms with malloc kept to its heap, and its
      // MobileNetV2 batch-64 forward 8.6–11 s against 0.5 s. The reference
      // gets its best case, as with jemalloc or tcmalloc.
      env: {
        ...process.env,
        MALLOC_MMAP_MAX_: '0',
        MALLOC_TRIM_THRESHOLD_: String(2 ** 34),
      },
    });
    if (res.status !== 0) {
      log(`PyTorch reference failed: ${res.stderr.split('\n').slice(-3).join(' ')}`);
      return [];
    }
    results.push(...(JSON.parse(res.stdout) as unknown[]));
  }
  const out: Row[] = [];
  for (const r of results as {
    model: string;
    batch: number;
    forwardMs: number;
    fgsmMs: number | null;
    pgd10Ms: number | null;
    trainMs: number | null;
  }[]) {
    const backend = `pytorch-cpu-${threads}t`;
    const row = (metric: string, value: number | null) =>
      out.push({ model: r.model, batch: r.batch, backend, metric, value, unit: 'ms' });
    row('forward', r.forwardMs);
    row('fgsmStep', r.fgsmMs);
    row('pgd10', r.pgd10Ms);
    row('trainStep', r.trainMs);
    if (r.fgsmMs !== null && r.forwardMs > 0)
      out.push({
        model: r.model,
        batch: r.batch,
        backend,
        metric: 'fgsmStep/forward',
        value: r.fgsmMs / r.forwardMs,
        unit: '×',
      });
  }
  return out;
}

async function main(): Promise<void> {
  const models = args.models.split(',') as BenchModelName[];
  const batches = args.batches.split(',').map(Number);
  const backends = args.backends.split(',');
  const runs = Number(args.runs);
  for (const spec of backends) {
    const used = await startBackend(spec);
    log(`backend ${used}`);
    for (const m of models) for (const b of batches) await benchCase(m, used, b, runs);
  }
  useKernels('advkit');
  const cases = models.flatMap((m) => batches.map((b) => ({ model: m, batch: b })));
  const ref = torchReference(cases, Number(args.threads), runs);
  rows.push(...ref);
  for (const r of ref.filter((q) => ['forward', 'fgsmStep', 'trainStep'].includes(q.metric))) {
    for (const mine of rows.filter(
      (q) =>
        q.model === r.model &&
        q.batch === r.batch &&
        q.metric === r.metric &&
        q.value !== null &&
        !q.backend.startsWith('pytorch'),
    )) {
      rows.push({
        model: r.model,
        batch: r.batch,
        backend: mine.backend,
        metric: `${r.metric}/pytorch`,
        value: (mine.value as number) / (r.value as number),
        unit: '×',
      });
    }
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 1)}\n`);
    return;
  }
  const metrics = [
    'forward',
    'fgsmStep',
    'fgsmRun',
    'fgsmStep/forward',
    'pgd10',
    'trainStep',
    'forward/pytorch',
    'fgsmStep/pytorch',
    'trainStep/pytorch',
    'peakRss',
  ];
  const keys = [...new Set(rows.map((r) => `${r.model}|${r.batch}|${r.backend}`))];
  const fmt = (v: number | null | undefined, unit: string) =>
    v === null || v === undefined
      ? '—'
      : unit === '×'
        ? `${v.toFixed(2)}×`
        : unit === 'B'
          ? `${(v / 2 ** 20).toFixed(0)} MiB`
          : v.toFixed(1);
  console.log(`| model | batch | backend | ${metrics.join(' | ')} |`);
  console.log(`|${' --- |'.repeat(metrics.length + 3)}`);
  for (const k of keys) {
    const [model, batch, backend] = k.split('|');
    const cell = (m: string) => {
      const r = rows.find(
        (q) =>
          q.model === model && String(q.batch) === batch && q.backend === backend && q.metric === m,
      );
      return fmt(r?.value, r?.unit ?? 'ms');
    };
    console.log(`| ${model} | ${batch} | ${backend} | ${metrics.map(cell).join(' | ')} |`);
  }
  console.log(
    '\nms are medians after warm-up, all from this one process; — means not measured (see the log above for why). ' +
      'peakRss is the process-wide peak so far. On a shared machine repeat runs differ by tens of percent.',
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`bench: ${(e as Error).stack}`);
    process.exit(1);
  },
);
