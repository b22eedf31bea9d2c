/**
 * Kernel benchmark: stock TF.js wasm kernels vs advkit's vs the cpu backend,
 * and input-gradient ÷ forward time on two small nets.
 *
 *   node --import tsx bench/kernels.ts
 *
 * Fixed seeded inputs; each figure is the median of several timed runs after
 * warm-up runs. "—" means the kernel does not exist (stock wasm) or was
 * skipped as too slow (cpu, large batches).
 */
import * as tf from '@tensorflow/tfjs';
import {
  setBackend,
  stockGradient,
  stockKernel,
  withInputOnlyGradients,
} from '../src/backend/index.js';
import { MARGIN, routeCosts, useSparseInputGradients } from '../src/backend/sparse-input-grad.js';

function seeded(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  let s = (seed * 2654435761) >>> 0 || 1;
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return tf.tensor(v, shape);
}

/** Median ms of `fn` (its outputs read back and disposed) after warm-up. */
function median(fn: () => tf.Tensor | tf.Tensor[], runs = 7, warm = 2): number {
  const times: number[] = [];
  for (let i = 0; i < warm + runs; i++) {
    const t0 = performance.now();
    const out = tf.tidy(fn);
    const list = Array.isArray(out) ? out : [out];
    for (const t of list) t.dataSync();
    const dt = performance.now() - t0;
    tf.dispose(list);
    if (i >= warm) times.push(dt);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Run a stock kernel directly on the current backend, as a Tensor. */
function runStock(kernel: tf.KernelConfig, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor {
  const backend = tf.backend();
  const info = kernel.kernelFunc({
    inputs,
    attrs: attrs as tf.NamedAttrMap,
    backend,
  }) as tf.TensorInfo;
  const values = backend.readSync(info.dataId) as Float32Array;
  backend.disposeData(info.dataId);
  return tf.tensor(values, info.shape);
}

const fmt = (ms: number | undefined) =>
  ms == null ? '—' : ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
const ratio = (a: number | undefined, b: number | undefined) =>
  a == null || b == null ? '—' : `${(a / b).toFixed(1)}×`;

interface Row {
  op: string;
  shape: string;
  stock?: number;
  advkit: number;
  cpu?: number;
}

function table(rows: Row[]): void {
  const head = [
    'op',
    'shape',
    'stock wasm ms',
    'advkit ms',
    'cpu ms',
    'stock/advkit',
    'cpu/advkit',
  ];
  const body = rows.map((r) => [
    r.op,
    r.shape,
    fmt(r.stock),
    fmt(r.advkit),
    fmt(r.cpu),
    ratio(r.stock, r.advkit),
    ratio(r.cpu, r.advkit),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const b of body) console.log(line(b));
}

async function onCpu<T>(fn: () => T): Promise<T> {
  await tf.setBackend('cpu');
  try {
    return fn();
  } finally {
    await tf.setBackend('wasm');
  }
}

/** One kernel: stock wasm (if any), advkit on wasm, cpu. */
async function kernelRow(
  op: string,
  shape: string,
  kernelName: string,
  makeInputs: () => tf.NamedTensorMap,
  attrs: object,
  cpuRuns = 3,
): Promise<Row> {
  const inputs = makeInputs();
  const stock = stockKernel(kernelName, 'wasm');
  const row: Row = {
    op,
    shape,
    advkit: median(
      () => tf.engine().runKernel(kernelName, inputs, attrs as tf.NamedAttrMap) as tf.Tensor,
    ),
  };
  if (stock != null) row.stock = median(() => runStock(stock, inputs, attrs));
  row.cpu = await onCpu(() =>
    median(
      () => tf.engine().runKernel(kernelName, inputs, attrs as tf.NamedAttrMap) as tf.Tensor,
      cpuRuns,
      1,
    ),
  );
  tf.dispose(Object.values(inputs));
  return row;
}

async function kernelTable(): Promise<void> {
  const rows: Row[] = [];
  for (const [x, f, co, s] of [
    [[1, 28, 28, 32], 3, 64, 1],
    [[64, 14, 14, 32], 3, 64, 1],
    [[64, 32, 32, 16], 3, 32, 2],
  ] as [[number, number, number, number], number, number, number][]) {
    const info = tf.backend_util.computeConv2DInfo(x, [f, f, x[3], co], s, 1, 'same');
    const attrs = { strides: s, pad: 'same', dataFormat: 'NHWC' };
    const label = `x ${x.join('×')} f${f} →${co} s${s}`;
    rows.push(
      await kernelRow(
        'Conv2DBackpropInput',
        label,
        tf.Conv2DBackpropInput,
        () => ({ dy: seeded(info.outShape, 1), filter: seeded([f, f, x[3], co], 2) }),
        { ...attrs, inputShape: x },
      ),
    );
    rows.push(
      await kernelRow(
        'Conv2DBackpropFilter',
        label,
        tf.Conv2DBackpropFilter,
        () => ({ x: seeded(x, 3), dy: seeded(info.outShape, 4) }),
        { ...attrs, filterShape: [f, f, x[3], co] },
      ),
    );
  }
  for (const [x, s] of [
    [[1, 28, 28, 32], 1],
    [[64, 16, 16, 32], 2],
  ] as [[number, number, number, number], number][]) {
    const filterShape: [number, number, number, number] = [3, 3, x[3], 1];
    const info = tf.backend_util.computeConv2DInfo(x, filterShape, s, 1, 'same', undefined, true);
    const attrs = { strides: s, pad: 'same', dilations: 1 };
    const label = `x ${x.join('×')} f3 m1 s${s}`;
    rows.push(
      await kernelRow(
        'DepthwiseBackpropInput',
        label,
        tf.DepthwiseConv2dNativeBackpropInput,
        () => ({ dy: seeded(info.outShape, 5), filter: seeded(filterShape, 6) }),
        { ...attrs, inputShape: x },
      ),
    );
    rows.push(
      await kernelRow(
        'DepthwiseBackpropFilter',
        label,
        tf.DepthwiseConv2dNativeBackpropFilter,
        () => ({ x: seeded(x, 7), dy: seeded(info.outShape, 8) }),
        { ...attrs, filterShape },
      ),
    );
  }
  for (const x of [
    [1, 28, 28, 32],
    [64, 16, 16, 32],
  ] as [number, number, number, number][]) {
    const attrs = { filterSize: 2, strides: 2, pad: 'valid' };
    const make = () => {
      const input = seeded(x, 9);
      const output = tf.maxPool(input as tf.Tensor4D, 2, 2, 'valid');
      return { dy: seeded(output.shape, 10), input, output };
    };
    rows.push(
      await kernelRow('MaxPoolGrad', `x ${x.join('×')} 2×2 s2`, tf.MaxPoolGrad, make, attrs),
    );
  }
  for (const x of [
    [1, 32, 32, 64],
    [64, 16, 16, 64],
  ] as [number, number, number, number][]) {
    rows.push(
      await kernelRow(
        'DepthToSpace',
        `x ${x.join('×')} b2`,
        tf.DepthToSpace,
        () => ({ x: seeded(x, 11) }),
        { blockSize: 2, dataFormat: 'NHWC' },
      ),
    );
  }
  rows.push(await batchNormRow([64, 16, 16, 64]));
  table(rows);
}

/** Batch-norm input gradient: TF.js's (tile) vs advkit's (broadcast), on wasm. */
async function batchNormRow(x: number[]): Promise<Row> {
  const c = x[3];
  const t = {
    x: seeded(x, 12),
    mean: seeded([c], 13),
    variance: seeded([c], 14, 0.5, 1.5),
    scale: seeded([c], 15, 0.5, 1.5),
    dy: seeded(x, 16),
  };
  const saved = [t.x, t.mean, t.variance, t.scale];
  const attrs = { varianceEpsilon: 1e-3 } as unknown as tf.NamedAttrMap;
  const ours = tf.getGradient(tf.FusedBatchNorm);
  const stock = stockGradient(tf.FusedBatchNorm);
  const dx = (g: tf.GradConfig) => () => g.gradFunc(t.dy, saved, attrs).x() as tf.Tensor;
  const row: Row = {
    op: 'FusedBatchNorm ∇x',
    shape: `x ${x.join('×')}`,
    advkit: median(dx(ours)),
    stock: stock == null ? undefined : median(dx(stock)),
  };
  row.cpu = await onCpu(() => median(dx(ours), 3, 1));
  tf.dispose(Object.values(t));
  return row;
}

function mnistCnn(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu' }),
      tf.layers.dense({ units: 10 }),
    ],
  });
}

function convBn(x: tf.SymbolicTensor, filters: number, strides: number, relu: boolean) {
  const c = tf.layers
    .conv2d({ filters, kernelSize: 3, strides, padding: 'same', useBias: false })
    .apply(x) as tf.SymbolicTensor;
  const b = tf.layers.batchNormalization().apply(c) as tf.SymbolicTensor;
  return relu ? (tf.layers.reLU().apply(b) as tf.SymbolicTensor) : b;
}

/** 32×32×3 → conv-bn-relu 16 → 2 residual blocks (16, then 32 with stride 2) → GAP → dense 10. */
function smallResNet(): tf.LayersModel {
  const input = tf.input({ shape: [32, 32, 3] });
  let h = convBn(input, 16, 1, true);
  for (const [filters, strides] of [
    [16, 1],
    [32, 2],
  ]) {
    const a = convBn(convBn(h, filters, strides, true), filters, 1, false);
    const shortcut =
      strides === 1
        ? h
        : (tf.layers
            .conv2d({ filters, kernelSize: 1, strides, useBias: false })
            .apply(h) as tf.SymbolicTensor);
    h = tf.layers.reLU().apply(tf.layers.add().apply([a, shortcut])) as tf.SymbolicTensor;
  }
  const pooled = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 10 }).apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/**
 * Swap advkit's replacements (Conv2DBackpropInput, MaxPoolGrad, the batch-norm
 * gradient) for TF.js's own while `fn` runs. Kernels stock wasm lacks
 * (Conv2DBackpropFilter, the depthwise backprops) stay advkit's: without them
 * the nets' gradients throw.
 */
function withStockKernels<T>(fn: () => T): T {
  const names = [tf.Conv2DBackpropInput, tf.MaxPoolGrad];
  const ours = names.map((n) => tf.getKernel(n, 'wasm'));
  const ourBatchNormGrad = tf.getGradient(tf.FusedBatchNorm);
  const swap = (configs: tf.KernelConfig[]) => {
    for (const k of configs) {
      tf.unregisterKernel(k.kernelName, 'wasm');
      tf.registerKernel(k);
    }
  };
  swap(names.map((n) => stockKernel(n, 'wasm')!));
  tf.registerGradient(stockGradient(tf.FusedBatchNorm)!);
  try {
    return fn();
  } finally {
    swap(ours);
    tf.registerGradient(ourBatchNormGrad);
  }
}

async function modelTable(): Promise<void> {
  console.log(
    '∇x stock: TF.js kernels where wasm has them (advkit filter kernels fill the gaps);' +
      ' input-only: inside withInputOnlyGradients\n',
  );
  const head =
    '| model | batch | forward ms | ∇x stock wasm ms | ∇x advkit ms | ∇x input-only ms | ∇x÷fwd (input-only) | cpu ∇x ms |';
  console.log(head);
  console.log('|---|---|---|---|---|---|---|---|');
  for (const [name, build, shape] of [
    ['MNIST CNN', mnistCnn, [28, 28, 1]],
    ['ResNet-ish 32×32×3 + BN', smallResNet, [32, 32, 3]],
  ] as [string, () => tf.LayersModel, number[]][]) {
    tf.setBackend('wasm');
    const model = build();
    model.setWeights(model.weights.map((w, i) => seeded(w.shape as number[], 200 + i, -0.3, 0.3)));
    for (const batch of [1, 64]) {
      const x = seeded([batch, ...shape], 17, 0, 1);
      const labels = tf.oneHot(
        tf.tensor1d(
          Array.from({ length: batch }, (_, i) => i % 10),
          'int32',
        ),
        10,
      );
      const loss = (v: tf.Tensor) =>
        tf.losses.softmaxCrossEntropy(labels, model.apply(v) as tf.Tensor) as tf.Scalar;
      const forward = median(() => model.apply(x) as tf.Tensor);
      const grad = () => tf.grad(loss)(x);
      const stock = withStockKernels(() => median(grad, 5, 1));
      const advkit = median(grad);
      const inputOnly = median(() => withInputOnlyGradients(grad));
      const cpu = batch === 1 ? await onCpu(() => median(grad, 3, 1)) : undefined;
      console.log(
        `| ${name} | ${batch} | ${fmt(forward)} | ${fmt(stock)} | ${fmt(advkit)} | ${fmt(inputOnly)} | ${(inputOnly / forward).toFixed(2)} | ${fmt(cpu)} |`,
      );
      tf.dispose([x, labels]);
    }
    model.dispose();
  }
}

/**
 * Conv2DBackpropInput from a mostly-zero output gradient: the scatter route
 * against the dense convolution, interleaved, at the densities a max pool
 * (15–20 %) and a ReLU (about 50 %) leave, on one and two XNNPACK threads,
 * with the route the cost model picks (`src/backend/sparse-input-grad.ts`;
 * it picks for two threads whatever the count, so that results do not
 * depend on it).
 */
async function scatterTable(): Promise<void> {
  console.log(
    '| conv (input → output) | threads | nonzero | dense ms | scatter ms | dense ÷ scatter | picked |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const threads of [1, 2]) {
    await setBackend('wasm', { threads });
    scatterRows(threads);
  }
  await setBackend('wasm');
}

function scatterRows(threads: number): void {
  for (const [x, f, co, s, pad] of [
    [[64, 12, 12, 32], 3, 64, 1, 'valid'],
    [[64, 16, 16, 64], 3, 64, 1, 'same'],
    [[64, 32, 32, 32], 3, 32, 1, 'same'],
    [[64, 32, 32, 32], 3, 32, 2, 'same'],
    [[16, 56, 56, 64], 3, 128, 1, 'same'],
  ] as [[number, number, number, number], number, number, number, 'same' | 'valid'][]) {
    const w = seeded([f, f, x[3], co], 2) as tf.Tensor4D;
    const info = tf.backend_util.computeConv2DInfo(x, [f, f, x[3], co], s, 1, pad);
    const yShape = [x[0], info.outHeight, info.outWidth, co];
    for (const density of [0.15, 0.3, 0.5]) {
      const dy = tf.tidy(() =>
        tf.mul(seeded(yShape, 3), tf.cast(tf.less(seeded(yShape, 4, 0, 1), density), 'float32')),
      ) as tf.Tensor4D;
      const grad = () => tf.conv2dTranspose(dy, w, x, s, pad);
      const times: Record<'never' | 'always', number[]> = { never: [], always: [] };
      for (let i = 0; i < 9; i++) {
        for (const m of ['never', 'always'] as const) {
          useSparseInputGradients(m);
          times[m].push(median(grad, 1, i === 0 ? 1 : 0));
        }
      }
      useSparseInputGradients('auto');
      const mid = (v: number[]) => v.sort((a, b) => a - b)[v.length >> 1];
      const [dense, scatter] = [mid(times.never), mid(times.always)];
      const cost = routeCosts(info, density * dy.size);
      const picked = cost.scatter < MARGIN * cost.dense ? 'scatter' : 'dense';
      console.log(
        `| ${x.slice(1).join('×')} → ${yShape.slice(1).join('×')} (batch ${x[0]}, stride ${s}) | ${threads} | ${Math.round(density * 100)} % | ${fmt(dense)} | ${fmt(scatter)} | ${(dense / scatter).toFixed(2)}× | ${picked} |`,
      );
      dy.dispose();
    }
    w.dispose();
  }
}

await setBackend('wasm');
console.log(
  `TF.js ${tf.version_core}, wasm backend (${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD'}, ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'threads' : 'single thread'})\n`,
);
await kernelTable();
console.log();
await scatterTable();
console.log();
await modelTable();
