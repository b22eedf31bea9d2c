/**
 * Conv2DBackpropInput (advkit's forward-conv kernel on wasm) and
 * Conv2DBackpropFilter (missing from TF.js's wasm backend) against the cpu
 * backend's kernels, and against the adjoint identity
 * ⟨conv(x, w), dy⟩ = ⟨x, dx⟩ = ⟨w, dw⟩, which holds for the true gradients of
 * a function linear in x and in w.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { assertClose, assertWasmMatchesCpu, dot, runOn, tensor } from './helpers.js';

before(async () => {
  await setBackend('wasm');
});

type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;
const explicit: Pad = [
  [0, 0],
  [2, 1],
  [0, 3],
  [0, 0],
];

interface Case {
  x: [number, number, number, number];
  f: number;
  out: number;
  stride: number;
  pad: Pad;
}

const cases: Case[] = [];
for (const x of [
  [1, 5, 5, 1],
  [2, 7, 6, 3],
  [3, 9, 8, 4],
  // More than COL2IM_MAX_CHANNELS / IM2COL_MAX_CHANNELS input channels: the forward-conv routes.
  [2, 6, 7, 6],
] as [number, number, number, number][]) {
  for (const f of [1, 2, 3]) {
    for (const stride of [1, 2]) {
      for (const pad of ['same', 'valid', explicit] as Pad[]) {
        cases.push({ x, f, out: 1 + (x[3] % 3) * 2, stride, pad });
      }
    }
  }
}

function name(c: Case): string {
  return `x ${c.x} f ${c.f} out ${c.out} s ${c.stride} pad ${JSON.stringify(c.pad)}`;
}

/** [⟨y, dy⟩, dx, dw] for y = conv2d(x, w), through the registered gradient. */
function convGrads(c: Case): tf.Tensor[] {
  const x = tensor(c.x, 1);
  const w = tensor([c.f, c.f, c.x[3], c.out], 2);
  const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad);
  const dy = tensor(y.shape, 3);
  const f = (a: tf.Tensor, b: tf.Tensor) =>
    dot(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), dy);
  const [dx, dw] = tf.grads(f)([x, w]);
  return [dot(y, dy), dx, dw, dot(x, dx), dot(w, dw)];
}

test(`conv2d input and filter gradients on wasm equal cpu over ${cases.length} shapes`, async () => {
  for (const c of cases) {
    const [yDy, , , xDx, wDw] = await assertWasmMatchesCpu(name(c), () => convGrads(c));
    // Adjoint identity: the gradients are exact, not merely equal to cpu's.
    assertClose(xDx, yDy, `${name(c)}: ⟨x, dx⟩ = ⟨y, dy⟩`, 1e-3, 1e-4);
    assertClose(wDw, yDy, `${name(c)}: ⟨w, dw⟩ = ⟨y, dy⟩`, 1e-3, 1e-4);
  }
});

// Under a gradient tape TF.js fuses only linear convs (relu is then unfused);
// the fused gradient always runs Conv2DBackpropFilter, which stock wasm lacks.
test('fused conv2d with bias, linear or relu, has gradients on wasm (stock wasm throws)', async () => {
  for (const [stride, activation] of [
    [1, 'linear'],
    [2, 'linear'],
    [1, 'relu'],
  ] as const) {
    await assertWasmMatchesCpu(`fused conv s ${stride} ${activation}`, () => {
      const x = tensor([2, 6, 7, 3], 4);
      const w = tensor([3, 3, 3, 5], 5);
      const b = tensor([5], 6);
      const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        tf.sum(
          tf.square(
            tf.fused.conv2d({
              x: xx as tf.Tensor4D,
              filter: ww as tf.Tensor4D,
              strides: stride,
              pad: 'same',
              bias: bb,
              activation,
            }),
          ),
        );
      return tf.grads(f)([x, w, b]);
    });
  }
});

test('numeric pad with dimRoundingMode reaches both kernels unchanged', async () => {
  for (const mode of ['floor', 'ceil', 'round'] as const) {
    const inputShape: [number, number, number, number] = [2, 8, 7, 3];
    const info = tf.backend_util.computeConv2DInfo(inputShape, [3, 3, 3, 4], 2, 1, 1, mode);
    await assertWasmMatchesCpu(`pad 1 ${mode}`, () => {
      const dy = tensor(info.outShape, 7);
      const w = tensor([3, 3, 3, 4], 8);
      const x = tensor(inputShape, 9);
      const attrs = { strides: 2, pad: 1, dataFormat: 'NHWC', dimRoundingMode: mode };
      const dx = tf
        .engine()
        .runKernel(
          tf.Conv2DBackpropInput,
          { dy, filter: w },
          { ...attrs, inputShape },
        ) as tf.Tensor;
      const dw = tf
        .engine()
        .runKernel(
          tf.Conv2DBackpropFilter,
          { x, dy },
          { ...attrs, filterShape: [3, 3, 3, 4] },
        ) as tf.Tensor;
      return [dx, dw];
    });
  }
});

test('a conv2d gradient leaves no tensors behind on wasm', async () => {
  const { values } = await runOn('wasm', () => convGrads(cases[cases.length - 1]));
  assert.ok(values.length > 0, 'values.length > 0');
});
