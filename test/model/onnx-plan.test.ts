/**
 * ONNX plans (`src/model/onnx/plan.ts`): on hand-built translated graphs
 * (nodes shaped as `graph.ts` describes, each `apply` written with plain
 * TF.js ops and zero-padding by `tf.pad`, independently of the steps), the
 * plan's input gradient equals TF.js's autodiff through the nodes' `apply`
 * and central differences, on wasm and cpu, for every specialised step:
 * convolutions with explicit asymmetric pads (stride 2, ResNet's 7×7/2 pad
 * 3), depthwise, fused ReLU, max pools with pads and ceil mode taking the
 * ReLU mask, SE gates (a [n, 1, 1, c] Mul), HardSwish / HardSigmoid / SiLU,
 * Clip, constants on either side, and the autodiff step for the rest.
 * Then on the committed torchvision fixtures (test/model/fixtures/onnx/,
 * imported by `importOnnx`): the plan's cross-entropy gradient equals
 * autodiff through `forward` to float rounding, and PyTorch's (float64) to
 * the fixture's tolerances, with the same FGSM signs wherever |g| is above
 * PyTorch's own float32 noise.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import type {
  NodeSpec,
  Pads2D,
  TranslatedGraph,
  TranslatedNode,
} from '../../src/model/onnx/graph.js';
import { importOnnx } from '../../src/model/onnx/index.js';
import { onnxPlan, type PlannableOnnx } from '../../src/model/onnx/plan.js';
import type { LayerPlan } from '../../src/model/step-graph.js';
import { assertClose, centralDifferences, seeded, someCoordinates } from '../backend/helpers.js';
import { fixtureDirs, nhwcInput, readFixture, SMALL_FIXTURES } from './onnx-reference.js';

await setBackend('wasm');
after(() => tf.setBackend('wasm'));

let seed = 1;
const rand = (shape: number[], scale = 1) =>
  tf.tensor(
    seeded(
      shape.reduce((a, b) => a * b, 1),
      seed++,
      -scale,
      scale,
    ),
    shape,
  );

/** `f` [kh, kw, a, b] dilated by `d`: [(kh − 1)·d + 1, (kw − 1)·d + 1, a, b], zeros between taps. */
function zeroInserted(f: tf.Tensor4D, d: number): tf.Tensor4D {
  const [kh, kw, a, b] = f.shape;
  const [h, w] = [(kh - 1) * d + 1, (kw - 1) * d + 1];
  const src = f.dataSync();
  const out = new Float32Array(h * w * a * b);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let k = 0; k < a * b; k++)
        out[(i * d * w + j * d) * a * b + k] = src[(i * kw + j) * a * b + k];
  return tf.tensor4d(out, [h, w, a, b]);
}

/** A translated graph built node by node; value 0 is the NHWC input. */
class Builder {
  nodes: TranslatedNode[] = [];
  private next = 1;
  readonly owned: tf.Tensor[] = [];

  node(op: string, inputs: number[], spec: NodeSpec, apply: TranslatedNode['apply']): number {
    const output = this.next++;
    this.nodes.push({ name: `${op}${output}`, op, inputs, output, apply, spec });
    return output;
  }

  keep<T extends tf.Tensor>(t: T): T {
    this.owned.push(t);
    return t;
  }

  conv(
    x: number,
    cin: number,
    cout: number,
    k: number,
    o: {
      strides?: number;
      pads?: Pads2D;
      depthwise?: boolean;
      dilation?: number;
      groups?: number;
    } = {},
  ): number {
    const s = o.strides ?? 1;
    const pads = o.pads ?? [0, 0, 0, 0];
    const d = o.dilation ?? 1;
    const groups = o.depthwise ? cin : (o.groups ?? 1);
    const shape = o.depthwise ? [k, k, cin, cout / cin] : [k, k, cin / groups, cout];
    const filter = this.keep(rand(shape, 1 / Math.sqrt(k * k * (cin / groups))) as tf.Tensor4D);
    const bias = this.keep(rand([cout], 0.1) as tf.Tensor1D);
    const [t, b, l, r] = pads;
    // TF.js's conv2d gradient refuses dilations: the reference runs the
    // equal undilated filter, zeros written between the taps here.
    const ref = d === 1 ? filter : this.keep(zeroInserted(filter, d));
    const apply = ([v]: tf.Tensor[]) => {
      const p = tf.pad(v, [
        [0, 0],
        [t, b],
        [l, r],
        [0, 0],
      ]) as tf.Tensor4D;
      let y: tf.Tensor;
      if (o.depthwise) y = tf.depthwiseConv2d(p, ref, s, 'valid');
      else if (groups === 1) y = tf.conv2d(p, ref, s, 'valid');
      else {
        const xs = tf.split(p, groups, 3);
        const fs = tf.split(ref, groups, 3);
        y = tf.concat(
          xs.map((xi, i) => tf.conv2d(xi as tf.Tensor4D, fs[i] as tf.Tensor4D, s, 'valid')),
          3,
        );
      }
      return tf.add(y, bias);
    };
    return this.node(
      'Conv',
      [x],
      {
        kind: 'conv',
        filter,
        bias,
        strides: [s, s],
        pads,
        dilations: [d, d],
        groups,
        depthwise: o.depthwise === true,
      },
      apply,
    );
  }

  maxPool(
    x: number,
    k: number,
    s: number,
    pads: Pads2D,
    ceilMode = false,
    applyPads = pads,
  ): number {
    const [t, b, l, r] = applyPads;
    return this.node(
      'MaxPool',
      [x],
      { kind: 'maxpool', kernel: [k, k], strides: [s, s], pads, ceilMode, countIncludePad: false },
      ([v]) =>
        tf.maxPool(
          tf.pad(
            v,
            [
              [0, 0],
              [t, b],
              [l, r],
              [0, 0],
            ],
            -1e9,
          ) as tf.Tensor4D,
          k,
          s,
          'valid',
        ),
    );
  }

  unary(x: number, spec: NodeSpec, f: (v: tf.Tensor) => tf.Tensor): number {
    return this.node(spec.kind, [x], spec, ([v]) => f(v));
  }

  relu = (x: number) => this.unary(x, { kind: 'relu' }, tf.relu);

  binary(kind: 'add' | 'sub' | 'mul' | 'div', a: number, b: number): number {
    const op = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div }[kind];
    return this.node(kind, [a, b], { kind }, ([u, v]) => op(u, v));
  }

  withConstant(
    kind: 'add' | 'sub' | 'mul' | 'div',
    x: number,
    c: tf.Tensor,
    first: boolean,
  ): number {
    const op = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div }[kind];
    this.keep(c);
    return this.node(kind, [x], { kind, constant: c, constantFirst: first }, ([v]) =>
      first ? op(c, v) : op(v, c),
    );
  }

  gap = (x: number) =>
    this.node('GlobalAveragePool', [x], { kind: 'global-avgpool' }, ([v]) =>
      tf.mean(v, [1, 2], true),
    );

  flatten = (x: number) =>
    this.node('Flatten', [x], { kind: 'reshape', shape: [-1, 0] }, ([v]) =>
      tf.reshape(v, [v.shape[0], -1]),
    );

  dense(x: number, cin: number, cout: number): number {
    const kernel = this.keep(rand([cin, cout], 1 / Math.sqrt(cin)) as tf.Tensor2D);
    const bias = this.keep(rand([cout], 0.1) as tf.Tensor1D);
    // Per position on the last axis, for feature maps and tokens too.
    return this.node('Gemm', [x], { kind: 'dense', kernel, bias }, ([v]) =>
      tf.add(
        tf.reshape(tf.matMul(tf.reshape(v, [-1, cin]), kernel), [...v.shape.slice(0, -1), cout]),
        bias,
      ),
    );
  }

  /** The graph, with value shapes traced on `inputShape`. */
  graph(inputShape: number[], output: number, fixedBatch?: number): TranslatedGraph {
    // Reshape specs with a 0 stand for "the rest": fix them from the trace.
    const values: TranslatedGraph['values'] = [{ shape: inputShape, layout: 'nhwc' }];
    tf.tidy(() => {
      const held = new Map<number, tf.Tensor>([[0, tf.zeros(inputShape)]]);
      for (const n of this.nodes) {
        const y = n.apply(n.inputs.map((i) => held.get(i) as tf.Tensor));
        held.set(n.output, y);
        if (n.spec.kind === 'reshape' && n.spec.shape.includes(0))
          n.spec = { kind: 'reshape', shape: [-1, ...y.shape.slice(1)] };
        values[n.output] = { shape: y.shape, layout: y.rank === 4 ? 'nhwc' : 'plain' };
      }
    });
    return {
      nodes: this.nodes,
      output,
      values,
      batch: inputShape[0],
      fixedBatch,
      dispose: () => tf.dispose(this.owned),
    };
  }
}

/** The graph's output by TF.js ops through every node's `apply`. */
function forwardByApply(g: TranslatedGraph, x: tf.Tensor, output = g.output): tf.Tensor {
  return tf.tidy(() => {
    const held = new Map<number, tf.Tensor>([[0, x]]);
    for (const n of g.nodes)
      held.set(n.output, n.apply(n.inputs.map((i) => held.get(i) as tf.Tensor)));
    return held.get(output) as tf.Tensor;
  });
}

/** The plan's input gradient of Σ output · w, leak-checked. */
function planGradient(
  plan: LayerPlan,
  x: tf.Tensor4D,
  w: tf.Tensor2D,
): { grad: Float32Array; out: Float32Array } {
  const before = tf.memory().numTensors;
  const pass = plan.run(x);
  const out = pass.output.dataSync() as Float32Array;
  const dx = pass.backward(w);
  pass.output.dispose();
  const grad = dx.dataSync() as Float32Array;
  dx.dispose();
  assert.equal(tf.memory().numTensors, before, 'the plan leaked tensors');
  return { grad, out };
}

/**
 * Plan = autodiff through `apply` (output and gradient), on wasm and cpu;
 * = central differences on cpu at a few coordinates.
 */
async function check(
  what: string,
  net: PlannableOnnx,
  inputShape: number[],
  expectLayers?: string[],
) {
  const g = net.graph;
  const plan = onnxPlan(net);
  assert.ok(typeof plan !== 'string', `${what}: no plan (${plan})`);
  if (expectLayers) assert.deepEqual(plan.layers, expectLayers, `${what}: fused layers`);
  const x = rand(inputShape) as tf.Tensor4D;
  const output = onnxOutput(net);
  const outShape = g.values[output].shape;
  const w = rand([inputShape[0], outShape[1]]) as tf.Tensor2D;
  const loss = (xi: tf.Tensor) => tf.sum(tf.mul(forwardByApply(g, xi, output), w)) as tf.Scalar;
  for (const backend of ['wasm', 'cpu']) {
    await tf.setBackend(backend);
    const { grad, out } = planGradient(plan, x, w);
    const ref = tf.tidy(() => forwardByApply(g, x, output).dataSync());
    const refGrad = tf.tidy(() => tf.grad(loss)(x).dataSync());
    assertClose(out, ref, `${what} (${backend}): output`, 1e-4, 1e-4);
    const scale = Math.max(...Array.from(refGrad, Math.abs));
    assert.ok(scale > 1e-4, `${what}: the gradient is not all zero (max |g| ${scale})`);
    assertClose(grad, refGrad, `${what} (${backend}): gradient`, 2e-5 * scale, 1e-4);
    const forward = plan.forward(x);
    assertClose(forward.dataSync(), ref, `${what} (${backend}): forward`, 1e-4, 1e-4);
    forward.dispose();
    if (backend === 'cpu') {
      const coords = someCoordinates(x.size, 8);
      const fd = centralDifferences(loss, x, coords, 1e-2);
      coords.forEach((c, k) => {
        assert.ok(
          Math.abs(fd[k] - grad[c]) <= 2e-5 + 2e-2 * scale,
          `${what}: finite difference at ${c} is ${fd[k]}, plan ${grad[c]}`,
        );
      });
    }
  }
  await tf.setBackend('wasm');
  tf.dispose([x, w]);
}

function onnxOutput(net: PlannableOnnx): number {
  const act = net.outputActivation;
  return act
    ? (net.graph.nodes.find((n) => n.name === act.node) as TranslatedNode).inputs[0]
    : net.graph.output;
}

test('ResNet-shaped: 7×7/2 pad 3 stem, fused ReLUs, padded 3×3/2 max pool, residual add, stride-2 pads, GAP, Gemm', async () => {
  seed = 1;
  const b = new Builder();
  const c1 = b.conv(0, 3, 6, 7, { strides: 2, pads: [3, 3, 3, 3] });
  const r1 = b.relu(c1);
  const p1 = b.maxPool(r1, 3, 2, [1, 1, 1, 1]);
  const c2 = b.conv(p1, 6, 6, 3, { pads: [1, 1, 1, 1] });
  const r2 = b.relu(c2);
  const c3 = b.conv(r2, 6, 6, 3, { pads: [1, 1, 1, 1] });
  const a3 = b.binary('add', c3, p1);
  const r3 = b.relu(a3);
  const c4 = b.conv(r3, 6, 8, 3, { strides: 2, pads: [1, 1, 1, 1] });
  const short = b.conv(r3, 6, 8, 1, { strides: 2 });
  const a4 = b.relu(b.binary('add', c4, short));
  const gemm = b.dense(b.flatten(b.gap(a4)), 8, 5);
  const graph = b.graph([2, 20, 20, 3], gemm);
  await check(
    'resnet-shaped',
    { graph },
    [2, 20, 20, 3],
    [
      'Conv1+relu2',
      'MaxPool3',
      'Conv4+relu5',
      'Conv6',
      'add7',
      'relu8',
      'Conv9',
      'Conv10',
      'add11',
      'relu12',
      'GlobalAveragePool13',
      'Flatten14',
      'Gemm15',
    ],
  );
  graph.dispose();
});

test('MobileNet-shaped: depthwise stride 2 with asymmetric pads, Clip, SE gate, HardSigmoid, HardSwish, SiLU, softmax output', async () => {
  seed = 100;
  const b = new Builder();
  const c1 = b.conv(0, 3, 8, 3, { strides: 2, pads: [0, 1, 0, 1] });
  const h1 = b.unary(c1, { kind: 'hardswish' }, (v) =>
    tf.div(tf.mul(v, tf.relu6(tf.add(v, 3))), 6),
  );
  const d1 = b.conv(h1, 8, 8, 3, { strides: 2, pads: [1, 1, 1, 1], depthwise: true });
  const r6 = b.unary(d1, { kind: 'clip', min: 0, max: 6 }, (v) => tf.clipByValue(v, 0, 6));
  // SE: GAP → 1×1 → ReLU → 1×1 → HardSigmoid, times the feature map.
  const s1 = b.relu(b.conv(b.gap(r6), 8, 4, 1));
  const gate = b.unary(b.conv(s1, 4, 8, 1), { kind: 'hardsigmoid', alpha: 1 / 6, beta: 0.5 }, (v) =>
    tf.clipByValue(tf.add(tf.mul(v, 1 / 6), 0.5), 0, 1),
  );
  const se = b.binary('mul', r6, gate);
  // A pointwise conv read by a ReLU6 alone (inputs ×10: outputs on both sides of [0, 6]).
  const loud = b.withConstant('mul', se, tf.scalar(10), false);
  const pw = b.unary(b.conv(loud, 8, 8, 1), { kind: 'clip', min: 0, max: 6 }, (v) =>
    tf.clipByValue(v, 0, 6),
  );
  const c2 = b.conv(pw, 8, 6, 1);
  const silu = b.binary('mul', c2, b.unary(c2, { kind: 'sigmoid' }, tf.sigmoid));
  const pooled = b.node(
    'AveragePool',
    [silu],
    {
      kind: 'avgpool',
      kernel: [2, 2],
      strides: [2, 2],
      pads: [0, 0, 0, 0],
      ceilMode: false,
      countIncludePad: false,
    },
    ([v]) => tf.avgPool(v as tf.Tensor4D, 2, 2, 'valid'),
  );
  const logits = b.dense(b.flatten(pooled), 6 * 2 * 2, 4);
  const sm = b.node('Softmax', [logits], { kind: 'softmax', axis: -1 }, ([v]) => tf.softmax(v));
  const graph = b.graph([2, 17, 17, 3], sm);
  const net = { graph, outputActivation: { op: 'Softmax', node: `Softmax${sm}` } };
  await check('mobilenet-shaped', net, [2, 17, 17, 3]);
  // Without stopping before the softmax, the plan ends in it (autodiff step).
  const whole = onnxPlan(net, { beforeActivation: false });
  assert.ok(
    typeof whole !== 'string' && whole.layers.at(-1) === `Softmax${sm}`,
    'the whole graph planned',
  );
  graph.dispose();
});

test('ceil-mode and asymmetric max pools, constants on either side, affine, tanh, concat, and autodiff steps for dilated / grouped convs and other ops', async () => {
  seed = 64;
  const b = new Builder();
  const c1 = b.conv(0, 2, 4, 3, { pads: [1, 1, 0, 2] });
  const r1 = b.relu(c1);
  // 10 rows, k 3, s 2, ceil: 5 outputs, the last window reads one padded row.
  const p1 = b.maxPool(r1, 3, 2, [0, 0, 0, 0], true, [0, 1, 0, 1]);
  const k1 = b.withConstant('add', p1, rand([1, 1, 1, 4]), false);
  const k2 = b.withConstant('sub', k1, rand([4]), true);
  const k3 = b.withConstant('mul', k2, rand([1, 5, 5, 1]), false);
  const k4 = b.withConstant('div', k3, tf.add(rand([4]), 2), false);
  const k5 = b.withConstant(
    'div',
    b.unary(k4, { kind: 'sigmoid' }, tf.sigmoid),
    tf.scalar(0.5),
    true,
  );
  const scale = b.keep(rand([4]) as tf.Tensor1D);
  const offset = b.keep(rand([4]) as tf.Tensor1D);
  const aff = b.node('BatchNormalization', [k5], { kind: 'affine', scale, offset }, ([v]) =>
    tf.add(tf.mul(v, scale), offset),
  );
  const th = b.unary(aff, { kind: 'tanh' }, tf.tanh);
  const dil = b.conv(th, 4, 4, 3, { pads: [2, 2, 2, 2], dilation: 2 });
  const grp = b.conv(th, 4, 4, 3, { pads: [1, 1, 1, 1], groups: 2 });
  const cat = b.node('Concat', [dil, grp, th], { kind: 'concat', axis: 3 }, (xs) =>
    tf.concat(xs, 3),
  );
  const leaky = b.node('LeakyRelu', [cat], { kind: 'leakyrelu', alpha: 0.1 }, ([v]) =>
    tf.leakyRelu(v, 0.1),
  );
  const sub = b.binary(
    'sub',
    leaky,
    b.binary(
      'div',
      leaky,
      b.withConstant('add', b.unary(leaky, { kind: 'other' }, tf.square), tf.scalar(1), false),
    ),
  );
  const mlp = b.relu(b.dense(sub, 12, 6)); // a dense node on a feature map (ConvNeXt's MLP)
  const out = b.dense(b.flatten(b.gap(mlp)), 6, 3);
  const graph = b.graph([2, 10, 10, 2], out);
  await check('ceil-constants-autodiff', { graph }, [2, 10, 10, 2]);
  graph.dispose();
});

test('an autodiff-only plan gives the same gradient; a fixed-batch graph runs other batches in chunks', async () => {
  seed = 300;
  const b = new Builder();
  const conv = b.relu(b.conv(0, 3, 4, 3, { strides: 2, pads: [1, 1, 1, 1] }));
  // A Flatten exported at batch 2 without dynamic axes: its shape is [2, 64].
  const flat = b.node('Flatten', [conv], { kind: 'reshape', shape: [2, 64] }, ([v]) =>
    tf.reshape(v, [v.shape[0], -1]),
  );
  const out = b.dense(flat, 4 * 4 * 4, 3);
  const graph = b.graph([2, 8, 8, 3], out, 2);
  const fast = onnxPlan({ graph });
  const slow = onnxPlan({ graph }, { autodiffOnly: true });
  assert.ok(typeof fast !== 'string' && typeof slow !== 'string', 'both plans built');
  const x = rand([2, 8, 8, 3]) as tf.Tensor4D;
  const w = rand([2, 3]) as tf.Tensor2D;
  const a = planGradient(fast, x, w);
  const s = planGradient(slow, x, w);
  assertClose(a.grad, s.grad, 'fast vs autodiff steps', 1e-5, 1e-4);
  // Batches of 1, 3 and 5 in chunks of 2 (the last padded): = autodiff on the whole batch.
  for (const n of [1, 3, 5]) {
    const xn = rand([n, 8, 8, 3]) as tf.Tensor4D;
    const wn = rand([n, 3]) as tf.Tensor2D;
    const got = planGradient(fast, xn, wn);
    const ref = tf.tidy(() =>
      tf
        .grad((v: tf.Tensor) => tf.sum(tf.mul(forwardByApply(graph, v), wn)))(xn)
        .dataSync(),
    );
    const outRef = tf.tidy(() => forwardByApply(graph, xn).dataSync());
    assertClose(got.out, outRef, `batch ${n}: output`, 1e-5, 1e-4);
    assertClose(got.grad, ref, `batch ${n}: gradient`, 1e-5, 1e-4);
    const before = tf.memory().numTensors;
    const y = fast.forward(xn);
    assertClose(y.dataSync(), outRef, `batch ${n}: forward`, 1e-5, 1e-4);
    y.dispose();
    // A pass released without a backward frees what it saved.
    const pass = fast.run(xn);
    pass.release();
    pass.output.dispose();
    assert.equal(tf.memory().numTensors, before, `batch ${n}: forward and release leak nothing`);
    tf.dispose([xn, wn]);
  }
  tf.dispose([x, w]);
  graph.dispose();
});

/** Σ CE(logits, labels) over the batch. */
const summedCrossEntropy = (z: tf.Tensor, labels: number[]) =>
  tf.tidy(() => {
    const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), z.shape[1] as number);
    return tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(z)))) as tf.Scalar;
  });

for (const dir of fixtureDirs(SMALL_FIXTURES)) {
  const name = dir.split('/').at(-1);
  test(`torchvision fixture ${name}: plan gradient = autodiff through forward = PyTorch's, same FGSM signs`, async () => {
    const f = readFixture(dir);
    const { ref } = f;
    const net = await importOnnx(f.bytes, { externalData: f.externalData, where: dir });
    const plan = onnxPlan(net);
    assert.ok(typeof plan !== 'string', `${name}: no plan (${plan})`);
    const x = nhwcInput(f);
    const mean = tf.tensor1d(ref.mean);
    const std = tf.tensor1d(ref.std);
    const normalise = (v: tf.Tensor) => tf.div(tf.sub(v, mean), std) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    // The plan: dCE/dlogits = softmax − one-hot, back through the plan, then ÷ std.
    const planGrad = tf.tidy(() => {
      const pass = plan.run(normalise(x));
      const z = pass.output;
      const onehot = tf.oneHot(tf.tensor1d(ref.labels, 'int32'), z.shape[1]);
      const dz = tf.sub(tf.softmax(z), onehot) as tf.Tensor2D;
      return tf.div(pass.backward(dz), std) as tf.Tensor4D;
    });
    const head = net.forwardBeforeActivation ?? net.forward;
    const autodiff = tf.tidy(() =>
      tf.grad((v: tf.Tensor) => summedCrossEntropy(head.call(net, normalise(v)), ref.labels))(x),
    );
    const g = tf.tidy(() => tf.transpose(planGrad, [0, 3, 1, 2]).dataSync() as Float32Array);
    const a = tf.tidy(() => tf.transpose(autodiff, [0, 3, 1, 2]).dataSync() as Float32Array);
    tf.dispose([planGrad, autodiff]);
    assert.equal(tf.memory().numTensors, before, `${name}: the gradients leaked tensors`);
    const torch = f.array('gradient64');
    const max = Math.max(...Array.from(torch, Math.abs));
    assertClose(g, a, `${name}: plan vs autodiff`, 1e-5 * max, 0);
    let dot = 0;
    let gg = 0;
    let tt = 0;
    let worst = 0;
    let signed = 0;
    for (let i = 0; i < g.length; i++) {
      dot += g[i] * torch[i];
      gg += g[i] * g[i];
      tt += torch[i] * torch[i];
      worst = Math.max(worst, Math.abs(g[i] - torch[i]));
      if (Math.abs(torch[i]) > ref.tolerances.signThreshold) {
        signed++;
        assert.equal(
          Math.sign(g[i]),
          Math.sign(torch[i]),
          `${name}: FGSM sign at ${i} (|g| ${Math.abs(torch[i])})`,
        );
      }
    }
    const cosine = dot / Math.sqrt(gg * tt);
    assert.ok(cosine >= ref.tolerances.gradientCosine, `${name}: cosine to PyTorch ${cosine}`);
    assert.ok(worst <= ref.tolerances.gradientMaxAbs, `${name}: max |plan − PyTorch| ${worst}`);
    assert.ok(signed > g.length / 4, `${name}: signs compared at ${signed} of ${g.length}`);
    tf.dispose([x, mean, std]);
    net.dispose();
  });
}
