/**
 * The scatter route of Conv2DBackpropInput (`src/backend/sparse-input-grad.ts`),
 * taken when the output gradient is mostly zeros: against the cpu backend
 * over strides, paddings and channel counts (a multiple of 32 input
 * channels, one more group of four, and fewer), with NaN and −0 in `dy`; and
 * end to end, the input gradient of a conv → ReLU → max-pool net.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import {
  MARGIN,
  routeCosts,
  useSparseInputGradients,
} from '../../src/backend/sparse-input-grad.js';
import { assertClose, runOn, seeded, size, tensor } from './helpers.js';

before(async () => {
  await setBackend('wasm');
});
after(() => useSparseInputGradients('auto'));

type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;
const explicit: Pad = [
  [0, 0],
  [1, 2],
  [2, 0],
  [0, 0],
];

/** Values of `shape` where about `density` of them are nonzero. */
function sparse(shape: number[], seed: number, density: number): Float32Array {
  const v = seeded(size(shape), seed);
  const keep = seeded(size(shape), seed + 1, 0, 1);
  return v.map((a, i) => (keep[i] < density ? a : 0));
}

test('scatter input gradients equal cpu over strides, paddings and 4–36 input channels', async () => {
  let cases = 0;
  for (const x of [
    [1, 5, 5, 4],
    [3, 9, 8, 8],
    [2, 7, 6, 36],
    [2, 12, 12, 32],
  ] as [number, number, number, number][]) {
    for (const f of [1, 2, 3]) {
      for (const stride of [1, 2]) {
        for (const pad of ['same', 'valid', explicit] as Pad[]) {
          for (const out of [3, 16]) {
            const w = tensor([f, f, x[3], out], 7);
            const yShape = tf.conv2d(
              tf.zeros(x) as tf.Tensor4D,
              w as tf.Tensor4D,
              stride,
              pad,
            ).shape;
            const values = sparse(yShape, 11 + cases, 0.2);
            if (cases % 5 === 0) [values[0], values[values.length - 1]] = [Number.NaN, -0];
            const grad = () =>
              tf.conv2dTranspose(
                tf.tensor(values, yShape) as tf.Tensor4D,
                w as tf.Tensor4D,
                x,
                stride,
                pad,
              );
            useSparseInputGradients('always');
            const wasm = await runOn('wasm', grad);
            const cpu = await runOn('cpu', grad);
            const what = `x ${x} f ${f} out ${out} s ${stride} pad ${JSON.stringify(pad)}`;
            const nan = (v: Float32Array) => v.map((a) => (Number.isNaN(a) ? 1e9 : a));
            assertClose(nan(wasm.values[0]), nan(cpu.values[0]), what, 1e-5, 1e-5);
            w.dispose();
            cases++;
          }
        }
      }
    }
  }
  await tf.setBackend('wasm');
  assert.equal(cases, 144, 'every case ran');
});

test('a conv → ReLU → max-pool net: auto, always and never give cpu’s input gradient', async () => {
  const x = tensor([4, 14, 14, 8], 21, 0, 1) as tf.Tensor4D;
  const w1 = tensor([3, 3, 8, 16], 22) as tf.Tensor4D;
  const w2 = tensor([3, 3, 16, 24], 23) as tf.Tensor4D;
  const grad = () =>
    tf.grad((v: tf.Tensor) => {
      const a = tf.maxPool(tf.relu(tf.conv2d(v as tf.Tensor4D, w1, 1, 'valid')), 2, 2, 'valid');
      const b = tf.maxPool(tf.relu(tf.conv2d(a, w2, 1, 'same')), 2, 2, 'valid');
      return tf.sum(
        tf.mul(
          b,
          tf
            .range(0, b.size / 4 / 24)
            .reshape([1, -1, 1, 1])
            .tile([4, 1, 1, 24])
            .reshape(b.shape),
        ),
      );
    })(x);
  const cpu = await runOn('cpu', grad);
  for (const m of ['auto', 'always', 'never'] as const) {
    useSparseInputGradients(m);
    const wasm = await runOn('wasm', grad);
    assertClose(wasm.values[0], cpu.values[0], m, 1e-4, 1e-4);
  }
  useSparseInputGradients('auto');
  tf.dispose([x, w1, w2]);
});

test('the scatter route leaves no scratch or tensors behind (its filter stays cached)', async () => {
  await tf.setBackend('wasm');
  useSparseInputGradients('always');
  const w = tensor([3, 3, 8, 4], 31) as tf.Tensor4D;
  const dy = tf.tensor(sparse([2, 6, 6, 4], 32, 0.2), [2, 6, 6, 4]) as tf.Tensor4D;
  tf.dispose(tf.conv2dTranspose(dy, w, [2, 8, 8, 8], 1, 'valid'));
  const dataIds = tf.engine().backend.numDataIds();
  const tensors = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) tf.dispose(tf.conv2dTranspose(dy, w, [2, 8, 8, 8], 1, 'valid'));
  assert.equal(tf.memory().numTensors, tensors, 'tensors');
  assert.equal(tf.engine().backend.numDataIds(), dataIds, 'backend data (scratch, filter)');
  useSparseInputGradients('auto');
  tf.dispose([w, dy]);
});

test('the cost model scatters below a max pool and keeps dense gradients dense', () => {
  const info = (x: number[], f: number, out: number, stride: number, pad: 'same' | 'valid') =>
    tf.backend_util.computeConv2DInfo(
      x as [number, number, number, number],
      [f, f, x[3], out],
      stride,
      1,
      pad,
    );
  const picks = (i: tf.backend_util.Conv2DInfo, density: number, threads = 2) => {
    const nonzero = density * i.batchSize * i.outHeight * i.outWidth * i.outChannels;
    const { dense, scatter } = routeCosts(i, nonzero, threads);
    return scatter < MARGIN * dense;
  };
  // The MNIST CNN's second convolution: 15 % of its gradient is nonzero under FGSM.
  const mnist = info([64, 12, 12, 32], 3, 64, 1, 'valid');
  assert.ok(picks(mnist, 0.155), 'MNIST conv2 below its pool');
  assert.ok(!picks(mnist, 0.5), 'MNIST conv2, half nonzero');
  assert.ok(picks(mnist, 0.5, 1), 'MNIST conv2, half nonzero, one XNNPACK thread');
  // A ResNet layer behind a ReLU alone (about half nonzero), and a wide one below a pool.
  assert.ok(!picks(info([64, 16, 16, 32], 3, 32, 1, 'same'), 0.5), 'ResNet layer');
  assert.ok(picks(info([16, 56, 56, 64], 3, 128, 1, 'same'), 0.15), 'wide layer below a pool');
});
