/**
 * ONNX op translations against plain NCHW loops written here, on models
 * built in the test (onnx-build.ts): the convolution and pool geometry the
 * torchvision fixtures do not reach (groups, dilation, asymmetric and
 * SAME_UPPER pads, ceil_mode, count_include_pad), Flatten of a feature map
 * before a Gemm (the NCHW order of the flattened values), a BatchNorm kept
 * apart when it cannot fold, initializer encodings, a final Softmax read
 * before the activation, a file that fixes its batch size, and the input
 * gradient against central differences. Forward and import are leak-free.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { importOnnx } from '../../src/model/onnx/index.js';
import { Classifier, objectiveGradient, setBackend, useLayerPlans } from '../../src/node.js';
import { centralDifferences, largestCoordinates } from './finite-differences.js';
import { type ModelSpec, node, onnxModel, values } from './onnx-build.js';

before(async () => {
  await setBackend();
});

type Dims = [number, number, number, number];

/** ONNX Conv on NCHW data; pads [top, left, bottom, right] as ONNX orders them. */
function convRef(
  x: Float32Array,
  [n, c, h, w]: Dims,
  wt: Float32Array,
  [o, cg, kh, kw]: Dims,
  bias: Float32Array | undefined,
  s: [number, number],
  p: [number, number, number, number],
  d: [number, number],
  group: number,
): { data: Float32Array; dims: Dims } {
  const oh = Math.floor((h + p[0] + p[2] - d[0] * (kh - 1) - 1) / s[0]) + 1;
  const ow = Math.floor((w + p[1] + p[3] - d[1] * (kw - 1) - 1) / s[1]) + 1;
  const out = new Float32Array(n * o * oh * ow);
  const og = o / group;
  for (let b = 0; b < n; b++)
    for (let k = 0; k < o; k++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let acc = bias ? bias[k] : 0;
          const g = Math.floor(k / og);
          for (let ci = 0; ci < cg; ci++)
            for (let u = 0; u < kh; u++)
              for (let v = 0; v < kw; v++) {
                const y = i * s[0] - p[0] + u * d[0];
                const xx = j * s[1] - p[1] + v * d[1];
                if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
                acc +=
                  x[((b * c + g * cg + ci) * h + y) * w + xx] *
                  wt[((k * cg + ci) * kh + u) * kw + v];
              }
          out[((b * o + k) * oh + i) * ow + j] = acc;
        }
  return { data: out, dims: [n, o, oh, ow] };
}

/** ONNX MaxPool / AveragePool on NCHW data (PyTorch's ceil_mode rule). */
function poolRef(
  x: Float32Array,
  [n, c, h, w]: Dims,
  kind: 'max' | 'avg',
  k: [number, number],
  s: [number, number],
  p: [number, number, number, number],
  ceil: boolean,
  includePad: boolean,
): { data: Float32Array; dims: Dims } {
  const size = (len: number, lead: number, trail: number, kk: number, ss: number) => {
    const span = len + lead + trail - kk;
    let out = (ceil ? Math.ceil(span / ss) : Math.floor(span / ss)) + 1;
    if (ceil && (out - 1) * ss >= len + lead) out--;
    return out;
  };
  const oh = size(h, p[0], p[2], k[0], s[0]);
  const ow = size(w, p[1], p[3], k[1], s[1]);
  const out = new Float32Array(n * c * oh * ow);
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          let acc = kind === 'max' ? Number.NEGATIVE_INFINITY : 0;
          let count = 0;
          for (let u = 0; u < k[0]; u++)
            for (let v = 0; v < k[1]; v++) {
              const y = i * s[0] - p[0] + u;
              const xx = j * s[1] - p[1] + v;
              const inPad = y >= -p[0] && y < h + p[2] && xx >= -p[1] && xx < w + p[3];
              if (y < 0 || y >= h || xx < 0 || xx >= w) {
                if (includePad && inPad) count++;
                continue;
              }
              const val = x[((b * c + ch) * h + y) * w + xx];
              acc = kind === 'max' ? Math.max(acc, val) : acc + val;
              count++;
            }
          out[((b * c + ch) * oh + i) * ow + j] = kind === 'max' ? acc : acc / count;
        }
  return { data: out, dims: [n, c, oh, ow] };
}

const nhwc = (x: Float32Array, [n, c, h, w]: Dims) =>
  tf.tidy(() => tf.transpose(tf.tensor4d(x, [n, c, h, w]), [0, 2, 3, 1]) as tf.Tensor4D);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'same number of values');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Imports `spec`, runs it on NCHW `x`, returns the output (ONNX order) and frees everything. */
async function run(spec: ModelSpec, x: Float32Array, dims: Dims) {
  const before = tf.memory().numTensors;
  const net = await importOnnx(onnxModel(spec), { where: 'test.onnx' });
  const input = nhwc(x, dims);
  const y = net.forward(input);
  const out = { data: (await y.data()) as Float32Array, shape: y.shape, net };
  tf.dispose([input, y]);
  net.dispose();
  assert.equal(tf.memory().numTensors, before, 'import + forward + dispose leave no tensor');
  return out;
}

describe('Conv', () => {
  const cases: {
    name: string;
    c: number;
    o: number;
    group: number;
    k: [number, number];
    s: [number, number];
    p: [number, number, number, number];
    d: [number, number];
    autoPad?: string;
  }[] = [
    {
      name: 'grouped (2 groups), asymmetric pads',
      c: 4,
      o: 6,
      group: 2,
      k: [3, 2],
      s: [1, 2],
      p: [0, 1, 1, 0],
      d: [1, 1],
    },
    {
      name: 'dilation 2 with pads',
      c: 3,
      o: 2,
      group: 1,
      k: [3, 3],
      s: [1, 1],
      p: [2, 2, 2, 2],
      d: [2, 2],
    },
    {
      name: 'depthwise ×2, stride 2, SAME_UPPER',
      c: 3,
      o: 6,
      group: 3,
      k: [3, 3],
      s: [2, 2],
      p: [0, 0, 1, 1],
      d: [1, 1],
      autoPad: 'SAME_UPPER',
    },
    {
      name: 'depthwise, asymmetric pads',
      c: 2,
      o: 2,
      group: 2,
      k: [3, 3],
      s: [1, 1],
      p: [1, 0, 0, 2],
      d: [1, 1],
    },
  ];
  for (const t of cases)
    it(`${t.name} = the NCHW loop`, async () => {
      const dims: Dims = [2, t.c, 7, 6];
      const x = values(
        dims.reduce((a, b) => a * b),
        3,
      );
      const wDims: Dims = [t.o, t.c / t.group, t.k[0], t.k[1]];
      const w = values(
        wDims.reduce((a, b) => a * b),
        5,
      );
      const b = values(t.o, 7);
      const attrs: Record<string, number | number[] | string> = {
        group: t.group,
        kernel_shape: t.k,
        strides: t.s,
        dilations: t.d,
      };
      if (t.autoPad) attrs.auto_pad = t.autoPad;
      else attrs.pads = t.p;
      const spec: ModelSpec = {
        input: ['x', dims],
        nodes: [node('Conv', ['x', 'w', 'b'], ['y'], attrs)],
        initializers: { w: { dims: wDims, data: w }, b: { dims: [t.o], data: b } },
      };
      // SAME_UPPER at 7×6, stride 2, k 3: total pad 2 rows, 1 col → [top 1, left 0, bottom 1, right 1]
      const pads: [number, number, number, number] = t.autoPad ? [1, 0, 1, 1] : t.p;
      const ref = convRef(x, dims, w, wDims, b, t.s, pads, t.d, t.group);
      const out = await run(spec, x, dims);
      assert.deepEqual(out.shape, ref.dims);
      const diff = maxAbsDiff(out.data, ref.data);
      assert.ok(diff < 1e-5, `${t.name}: max |difference| ${diff}`);
    });

  it('a BatchNormalization alone after a Conv is folded into it; one with two readers stays an affine', async () => {
    const dims: Dims = [1, 2, 5, 5];
    const x = values(50, 11);
    const w = values(3 * 2 * 9, 13);
    const bn = {
      scale: [1.5, 0.5, 2],
      bias: [0.1, -0.2, 0.3],
      mean: [0.05, -0.1, 0.2],
      var: [0.5, 2, 1],
    };
    const init = {
      w: { dims: [3, 2, 3, 3], data: w },
      s: { dims: [3], data: bn.scale },
      b: { dims: [3], data: bn.bias },
      m: { dims: [3], data: bn.mean },
      v: { dims: [3], data: bn.var },
    };
    const conv = node('Conv', ['x', 'w'], ['c'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    const bnNode = node('BatchNormalization', ['c', 's', 'b', 'm', 'v'], ['n'], {
      epsilon: { f: 1e-3 },
    });
    const ref = convRef(x, dims, w, [3, 2, 3, 3], undefined, [1, 1], [1, 1, 1, 1], [1, 1], 1);
    const normed = ref.data.map((v, i) => {
      const ch = Math.floor(i / 25) % 3;
      return ((v - bn.mean[ch]) / Math.sqrt(bn.var[ch] + 1e-3)) * bn.scale[ch] + bn.bias[ch];
    });
    const folded = await run(
      { input: ['x', dims], output: 'n', nodes: [conv, bnNode], initializers: init },
      x,
      dims,
    );
    assert.deepEqual(
      folded.net.graph.nodes.map((n) => n.op),
      ['Conv', 'Transpose'],
      'the batch norm went into the conv (then the NCHW output transpose)',
    );
    assert.ok(maxAbsDiff(folded.data, normed) < 1e-5, 'folded conv + batch norm = the loop');
    // The conv's output is also read by the Add: the batch norm cannot fold.
    const both = await run(
      {
        input: ['x', dims],
        output: 'y',
        nodes: [conv, bnNode, node('Add', ['n', 'c'], ['y'])],
        initializers: init,
      },
      x,
      dims,
    );
    assert.ok(
      both.net.graph.nodes.some((n) => n.spec.kind === 'affine'),
      'an affine node for the unfolded batch norm',
    );
    const sum = normed.map((v, i) => v + ref.data[i]);
    assert.ok(maxAbsDiff(both.data, sum) < 1e-5, 'unfolded batch norm + skip = the loop');
  });
});

describe('pools', () => {
  const dims: Dims = [2, 3, 7, 8];
  const x = values(2 * 3 * 7 * 8, 17);
  const cases = [
    { op: 'MaxPool', kind: 'max', k: [3, 3], s: [2, 2], p: [1, 1, 1, 1], ceil: 1, include: 0 },
    { op: 'MaxPool', kind: 'max', k: [2, 3], s: [2, 2], p: [0, 0, 0, 0], ceil: 1, include: 0 },
    { op: 'AveragePool', kind: 'avg', k: [3, 3], s: [2, 2], p: [1, 1, 1, 1], ceil: 0, include: 0 },
    { op: 'AveragePool', kind: 'avg', k: [3, 3], s: [2, 2], p: [1, 0, 1, 2], ceil: 0, include: 1 },
    { op: 'AveragePool', kind: 'avg', k: [2, 2], s: [2, 2], p: [0, 0, 0, 0], ceil: 1, include: 0 },
  ] as const;
  for (const t of cases)
    it(`${t.op} k${t.k} s${t.s} pads ${t.p} ceil_mode ${t.ceil} count_include_pad ${t.include} = the loop`, async () => {
      const attrs: Record<string, number | number[]> = {
        kernel_shape: [...t.k],
        strides: [...t.s],
        pads: [...t.p],
        ceil_mode: t.ceil,
      };
      if (t.op === 'AveragePool') attrs.count_include_pad = t.include;
      const ref = poolRef(
        x,
        dims,
        t.kind,
        [...t.k],
        [...t.s],
        [...t.p],
        t.ceil === 1,
        t.include === 1,
      );
      const out = await run(
        { input: ['x', dims], nodes: [node(t.op, ['x'], ['y'], attrs)] },
        x,
        dims,
      );
      assert.deepEqual(out.shape, ref.dims);
      const diff = maxAbsDiff(out.data, ref.data);
      assert.ok(diff < 1e-6, `max |difference| ${diff}`);
    });
});

describe('layout', () => {
  it('Flatten of a 2×2 feature map before a Gemm reads the values in NCHW order (weight rows permuted at load, or a transpose)', async () => {
    const dims: Dims = [2, 3, 2, 2];
    const x = values(24, 19);
    const w = values(4 * 12, 23);
    const ref = new Float32Array(8);
    for (let b = 0; b < 2; b++)
      for (let o = 0; o < 4; o++) {
        let acc = 0;
        for (let i = 0; i < 12; i++) acc += Math.max(0, x[b * 12 + i]) * w[o * 12 + i];
        ref[b * 4 + o] = acc;
      }
    const gemm = node('Gemm', ['f', 'w'], ['y'], { transB: 1 });
    const initializers = { w: { dims: [4, 12], data: w } };
    // Relu before Flatten: the Gemm alone reads the flattened map
    const direct = await run(
      {
        input: ['x', dims],
        nodes: [node('Relu', ['x'], ['r']), node('Flatten', ['r'], ['f']), gemm],
        initializers,
      },
      x,
      dims,
    );
    assert.deepEqual(
      direct.net.graph.nodes.map((n) => n.op),
      ['Relu', 'Flatten', 'Gemm'],
      'no transpose',
    );
    assert.ok(
      maxAbsDiff(direct.data, ref) < 1e-5,
      'permuted Gemm over the NCHW-flattened features',
    );
    // Relu after Flatten: the flattened values must be in ONNX order
    const reordered = await run(
      {
        input: ['x', dims],
        nodes: [node('Flatten', ['x'], ['q']), node('Relu', ['q'], ['f']), gemm],
        initializers,
      },
      x,
      dims,
    );
    assert.deepEqual(
      reordered.net.graph.nodes.map((n) => n.op),
      ['Transpose', 'Flatten', 'Relu', 'Gemm'],
    );
    assert.ok(maxAbsDiff(reordered.data, ref) < 1e-5, 'transpose, then the Gemm as written');
  });

  it('initializers in float16, double, float_data and int64_data fields read as written', async () => {
    const dims: Dims = [1, 2, 2, 2];
    const x = values(8, 29);
    const out = await run(
      {
        input: ['x', dims],
        nodes: [
          node('Mul', ['x', 'h'], ['a']),
          node('Add', ['a', 'd'], ['b']),
          node('Sub', ['b', 'f'], ['c']),
          node('Reshape', ['c', 'shape'], ['y']),
        ],
        initializers: {
          h: { dims: [2, 1, 1], data: [0.5, -2], encoding: 'float16' },
          d: { dims: [1], data: [0.25], encoding: 'double' },
          f: { dims: [2, 1, 1], data: [1, 3], encoding: 'float-field' },
          shape: { dims: [2], data: [-1, 8], encoding: 'int64-field' },
        },
      },
      x,
      dims,
    );
    assert.deepEqual(out.shape, [1, 8]);
    const ref = Array.from(x, (v, i) => (i < 4 ? v * 0.5 + 0.25 - 1 : v * -2 + 0.25 - 3));
    assert.ok(maxAbsDiff(out.data, ref) < 1e-6, 'per-channel constants broadcast on NCHW');
  });
});

describe('graphs', () => {
  it('a final Softmax: logits are read before it, and the Classifier reports probabilities', async () => {
    const dims: Dims = [2, 3, 4, 4];
    const bytes = onnxModel({
      input: ['x', ['N', 3, 4, 4]],
      nodes: [
        node('GlobalAveragePool', ['x'], ['g']),
        node('Flatten', ['g'], ['f']),
        node('Gemm', ['f', 'w', 'b'], ['z'], { transB: 1 }),
        node('Softmax', ['z'], ['y'], { axis: 1 }, 'probs'),
      ],
      initializers: {
        w: { dims: [5, 3], data: values(15, 31) },
        b: { dims: [5], data: values(5, 37) },
      },
    });
    const net = await importOnnx(bytes, { where: 'softmax.onnx' });
    assert.deepEqual(net.outputActivation, { op: 'Softmax', node: 'probs' });
    const model = Classifier.create(net, { bounds: [0, 1] });
    assert.equal(model.info.output, 'probabilities');
    assert.match(
      model.info.outputDetection,
      /graph ends in Softmax \(node "probs"\); logits read from its input/,
    );
    const x = nhwc(values(96, 41), dims);
    const [p, z] = [net.forward(x), model.logits(x)];
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.softmax(z), p))).dataSync()[0]);
    assert.ok(diff < 1e-6, `softmax(logits) = the graph's output (${diff})`);
    tf.dispose([x, p, z]);
    model.dispose();
    net.dispose();
  });

  it('two classifiers of one network, read before and after its final Softmax, each plan their own forward', async () => {
    const bytes = onnxModel({
      input: ['x', ['N', 3, 4, 4]],
      nodes: [
        node('GlobalAveragePool', ['x'], ['g']),
        node('Flatten', ['g'], ['f']),
        node('Gemm', ['f', 'w', 'b'], ['z'], { transB: 1 }),
        node('Softmax', ['z'], ['y'], { axis: 1 }, 'probs'),
      ],
      initializers: {
        w: { dims: [5, 3], data: values(15, 31) },
        b: { dims: [5], data: values(5, 37) },
      },
    });
    const net = await importOnnx(bytes);
    const x = nhwc(values(96, 43), [2, 3, 4, 4]);
    const before = Classifier.create(net);
    const beforeLogits = before.logits(x);
    // Created second: the first classifier's plan must not follow its choice.
    const after = Classifier.create(net, { output: 'logits' });
    const [p, z1, z2] = [net.forward(x), before.logits(x), after.logits(x)];
    const [d1, d2] = tf.tidy(() => [
      tf.max(tf.abs(tf.sub(z1, beforeLogits))).dataSync()[0],
      tf.max(tf.abs(tf.sub(z2, p))).dataSync()[0],
    ]);
    assert.ok(d1 < 1e-6, `the first still reads the logits before the Softmax (${d1})`);
    assert.ok(d2 < 1e-6, `the second reads the Softmax's output (${d2})`);
    tf.dispose([x, p, z1, z2, beforeLogits]);
    before.dispose();
    after.dispose();
    net.dispose();
  });

  it('a file that fixes its batch size (baked into a Reshape) runs other batch sizes in chunks', async () => {
    // [1, 2, 3, 3] → Reshape [1, 2, 9] → ReduceMean over the last axis → [1, 2]
    const spec: ModelSpec = {
      input: ['x', [1, 2, 3, 3]],
      nodes: [
        node('Reshape', ['x', 'shape'], ['r']),
        node('ReduceMean', ['r'], ['y'], { axes: [2], keepdims: 0 }),
      ],
      initializers: { shape: { dims: [3], data: [1, 2, 9], encoding: 'int64' } },
    };
    const net = await importOnnx(onnxModel(spec));
    assert.equal(net.graph.fixedBatch, 1, 'the graph runs one example at a time');
    const x = values(3 * 18, 43);
    const input = nhwc(x, [3, 2, 3, 3]);
    const y = net.forward(input);
    assert.deepEqual(y.shape, [3, 2]);
    const ref = Array.from(
      { length: 6 },
      (_, i) => x.slice(i * 9, i * 9 + 9).reduce((a, b) => a + b) / 9,
    );
    assert.ok(maxAbsDiff(await y.data(), ref) < 1e-6, 'each example = the mean of its channel');
    tf.dispose([input, y]);
    net.dispose();
  });

  it('the input gradient (the plan, and autodiff through apply) = central differences', async () => {
    const dims: Dims = [1, 2, 6, 6];
    const bytes = onnxModel({
      input: ['x', ['N', 2, 6, 6]],
      nodes: [
        node('Conv', ['x', 'w1', 'b1'], ['c1'], {
          kernel_shape: [3, 3],
          pads: [2, 2, 2, 2],
          dilations: [2, 2],
        }),
        node('HardSigmoid', ['c1'], ['h']),
        node('Mul', ['c1', 'h'], ['s']),
        node('Conv', ['s', 'w2'], ['c2'], {
          kernel_shape: [3, 3],
          strides: [2, 2],
          group: 4,
          pads: [1, 0, 0, 1],
        }),
        node('MaxPool', ['c2'], ['p'], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }),
        node('Flatten', ['p'], ['f']),
        node('Gemm', ['f', 'w3'], ['y'], { transB: 1 }),
      ],
      initializers: {
        w1: { dims: [4, 2, 3, 3], data: values(72, 47) },
        b1: { dims: [4], data: values(4, 53) },
        w2: { dims: [4, 1, 3, 3], data: values(36, 59) },
        w3: { dims: [3, 16], data: values(48, 61) },
      },
    });
    const net = await importOnnx(bytes);
    const model = Classifier.create(net, { bounds: [-1, 1] });
    const x = nhwc(values(72, 67), dims);
    const label = tf.tensor1d([1], 'int32');
    for (const plans of [true, false]) {
      useLayerPlans(plans);
      const g = objectiveGradient(model, x, label, 'ce');
      const grad = await g.grad.data();
      g.dispose();
      const coords = largestCoordinates(grad, 12);
      const fd = await centralDifferences(model, x, 1, coords, 1e-2);
      coords.forEach((c, k) => {
        assert.ok(
          Math.abs(fd[k] - grad[c]) <= 2e-3 + 2e-2 * Math.abs(grad[c]),
          `plans ${plans}, coordinate ${c}: gradient ${grad[c]}, central difference ${fd[k]}`,
        );
      });
    }
    useLayerPlans(true);
    tf.dispose([x, label]);
    model.dispose();
    net.dispose();
  });
});

describe('opset forms', () => {
  // One graph in its opset-11 spelling (axes, split and pads as attributes or
  // full-rank inputs) and its opset-18 one (axes as inputs, Split's
  // num_outputs, Pad's axes input): Pad H and W, split W unevenly, mean each
  // part over H and W, add.
  const dims: Dims = [2, 2, 4, 4];
  const x = values(64, 71);
  function reference(): Float32Array {
    const [n, c, h, w] = dims;
    const [ph, pw] = [h + 1, w + 1]; // one row on top, one column on the right
    const padded = (b: number, k: number, i: number, j: number) =>
      i === 0 || j === w ? 0 : x[((b * c + k) * h + (i - 1)) * w + j];
    const out = new Float32Array(n * c);
    for (let b = 0; b < n; b++)
      for (let k = 0; k < c; k++) {
        let left = 0;
        let right = 0;
        for (let i = 0; i < ph; i++)
          for (let j = 0; j < pw; j++) {
            if (j < 3) left += padded(b, k, i, j);
            else right += padded(b, k, i, j);
          }
        out[b * c + k] = left / (ph * 3) + right / (ph * 2);
      }
    return out;
  }
  const tail = [node('Add', ['ma', 'mb'], ['y'])];
  const specs: [string, ModelSpec][] = [
    [
      'opset 11',
      {
        opset: 11,
        input: ['x', ['N', 2, 4, 4]],
        nodes: [
          node('Pad', ['x', 'pads'], ['p']),
          node('Split', ['p'], ['a', 'b'], { axis: 3, split: [3, 2] }),
          node('ReduceMean', ['a'], ['ma'], { axes: [2, 3], keepdims: 0 }),
          node('ReduceMean', ['b'], ['mb'], { axes: [2, 3], keepdims: 0 }),
          ...tail,
        ],
        initializers: { pads: { dims: [8], data: [0, 0, 1, 0, 0, 0, 0, 1], encoding: 'int64' } },
      },
    ],
    [
      'opset 18',
      {
        opset: 18,
        input: ['x', ['N', 2, 4, 4]],
        nodes: [
          node('Pad', ['x', 'pads', '', 'padAxes'], ['p']),
          node('Split', ['p'], ['a', 'b'], { axis: -1, num_outputs: 2 }),
          node('ReduceMean', ['a', 'axes'], ['ma'], { keepdims: 0 }),
          node('ReduceMean', ['b', 'axes'], ['mb'], { keepdims: 0 }),
          ...tail,
        ],
        initializers: {
          pads: { dims: [4], data: [1, 0, 0, 1], encoding: 'int64' },
          padAxes: { dims: [2], data: [2, -1], encoding: 'int64' },
          axes: { dims: [2], data: [2, 3], encoding: 'int64' },
        },
      },
    ],
  ];
  for (const [name, spec] of specs) {
    it(`${name}: Pad, uneven Split and ReduceMean = the NCHW loop`, async () => {
      const { data, shape } = await run(spec, x, dims);
      assert.deepEqual(shape, [2, 2]);
      const err = maxAbsDiff(data, reference());
      assert.ok(err < 1e-6, `${name}: max |advkit − loop| = ${err}`);
    });
  }
});
