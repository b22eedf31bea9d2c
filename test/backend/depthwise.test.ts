/**
 * The depthwise backprop kernels (both missing from TF.js's wasm backend)
 * against the cpu backend's, including channel multipliers and dilations
 * (TF.js's depthwise gradient refuses dilations, so the kernels are called
 * directly), and against the adjoint identity ⟨y, dy⟩ = ⟨x, dx⟩ = ⟨w, dw⟩.
 *
 * TF.js's cpu depthwise backprop kernels ignore dilations, so for dilated
 * cases the reference is cpu's undilated kernels run with the filter
 * zero-dilated to its effective size (and the filter gradient read back at
 * every d-th tap).
 */
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { assertClose, assertWasmMatchesCpu, dot, runOn, tensor } from './helpers.js';

before(async () => {
  await setBackend('wasm');
});

type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;

interface Case {
  x: [number, number, number, number];
  f: number;
  m: number;
  stride: number;
  dilation: number;
  pad: Pad;
}

const cases: Case[] = [];
for (const x of [
  [1, 5, 5, 1],
  [2, 7, 6, 3],
  [3, 8, 9, 4],
] as [number, number, number, number][]) {
  for (const f of [1, 2, 3]) {
    for (const m of [1, 2]) {
      for (const [stride, dilation] of [
        [1, 1],
        [2, 1],
        [1, 2],
      ]) {
        for (const pad of [
          'same',
          'valid',
          [
            [0, 0],
            [1, 2],
            [2, 0],
            [0, 0],
          ],
        ] as Pad[]) {
          cases.push({ x, f, m, stride, dilation, pad });
        }
      }
    }
  }
}

function name(c: Case): string {
  return `x ${c.x} f ${c.f} m ${c.m} s ${c.stride} d ${c.dilation} pad ${JSON.stringify(c.pad)}`;
}

function depthwiseGrads(c: Case): tf.Tensor[] {
  const filterShape: [number, number, number, number] = [c.f, c.f, c.x[3], c.m];
  const x = tensor(c.x, 11);
  const w = tensor(filterShape, 12);
  const y = tf.depthwiseConv2d(
    x as tf.Tensor4D,
    w as tf.Tensor4D,
    c.stride,
    c.pad,
    'NHWC',
    c.dilation,
  );
  const dy = tensor(y.shape, 13);
  const attrs = { strides: c.stride, pad: c.pad, dilations: c.dilation };
  const dx = tf
    .engine()
    .runKernel(
      tf.DepthwiseConv2dNativeBackpropInput,
      { dy, filter: w },
      { ...attrs, inputShape: c.x },
    ) as tf.Tensor;
  const dw = tf
    .engine()
    .runKernel(
      tf.DepthwiseConv2dNativeBackpropFilter,
      { x, dy },
      { ...attrs, filterShape },
    ) as tf.Tensor;
  return [dot(y, dy), dx, dw, dot(x, dx), dot(w, dw)];
}

/** [dx, dw] from cpu's stock (undilated) kernels with a zero-dilated filter. */
function dilatedReference(c: Case): tf.Tensor[] {
  const { f, m, dilation: d } = c;
  const ch = c.x[3];
  const eff = (f - 1) * d + 1;
  const x = tensor(c.x, 11);
  const w = tensor([f, f, ch, m], 12);
  const spread = tf
    .pad(tf.reshape(w, [f, 1, f, 1, ch, m]), [
      [0, 0],
      [0, d - 1],
      [0, 0],
      [0, d - 1],
      [0, 0],
      [0, 0],
    ])
    .reshape([f * d, f * d, ch, m])
    .slice([0, 0, 0, 0], [eff, eff, ch, m]) as tf.Tensor4D;
  const y = tf.depthwiseConv2d(x as tf.Tensor4D, spread, c.stride, c.pad);
  const dy = tensor(y.shape, 13);
  const attrs = { strides: c.stride, pad: c.pad, dilations: 1 };
  const dx = tf
    .engine()
    .runKernel(
      tf.DepthwiseConv2dNativeBackpropInput,
      { dy, filter: spread },
      { ...attrs, inputShape: c.x },
    ) as tf.Tensor;
  const dwEff = tf
    .engine()
    .runKernel(
      tf.DepthwiseConv2dNativeBackpropFilter,
      { x, dy },
      { ...attrs, filterShape: [eff, eff, ch, m] },
    ) as tf.Tensor;
  const dw = tf.stridedSlice(dwEff, [0, 0, 0, 0], [eff, eff, ch, m], [d, d, 1, 1]);
  return [dx, dw];
}

test(`depthwise backprop kernels on wasm equal cpu over ${cases.length} shapes`, async () => {
  for (const c of cases) {
    const [yDy, dx, dw, xDx, wDw] = await assertWasmMatchesCpu(name(c), () => depthwiseGrads(c));
    assertClose(xDx, yDy, `${name(c)}: ⟨x, dx⟩ = ⟨y, dy⟩`, 1e-3, 1e-4);
    assertClose(wDw, yDy, `${name(c)}: ⟨w, dw⟩ = ⟨y, dy⟩`, 1e-3, 1e-4);
    if (c.dilation > 1) {
      const ref = await runOn('cpu', () => dilatedReference(c));
      assertClose(dx, ref.values[0], `${name(c)}: dx vs zero-dilated filter`);
      assertClose(dw, ref.values[1], `${name(c)}: dw vs zero-dilated filter`);
    }
  }
});

test('tf.depthwiseConv2d has input and filter gradients on wasm (stock wasm throws)', async () => {
  for (const stride of [1, 2]) {
    await assertWasmMatchesCpu(`depthwise grad s ${stride}`, () => {
      const x = tensor([2, 7, 7, 3], 14);
      const w = tensor([3, 3, 3, 2], 15);
      const f = (a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, 'same')));
      return tf.grads(f)([x, w]);
    });
  }
});
