/**
 * advkit's SIMD kernels (src/backend/simd): the committed binaries match
 * `kernels.wat`, and every kernel equals its plain-JS path and the cpu
 * backend — boundaries, NaN, lengths that are not a multiple of 4, ties.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { generatedSource, OUT_PATH } from '../../scripts/build-simd.js';
import { setBackend } from '../../src/backend/index.js';
import { moveBlocksPlain, simdKernels, useSimdKernels } from '../../src/backend/simd/index.js';
import { assertClose, runOn, tensor } from './helpers.js';

before(async () => {
  await setBackend('wasm');
});
after(() => useSimdKernels(true));

test('src/backend/simd/kernels-wasm.ts is what `npm run build:simd` makes of kernels.wat', async () => {
  assert.equal(
    readFileSync(OUT_PATH, 'utf8'),
    await generatedSource(),
    'kernels.wat changed: run npm run build:simd',
  );
});

test('the SIMD kernels start on the wasm backend', async () => {
  await tf.setBackend('wasm');
  assert.ok(simdKernels(tf.backend()), 'wasm SIMD kernels available');
  await tf.setBackend('cpu');
  assert.equal(simdKernels(tf.backend()), undefined, 'none on cpu');
  await tf.setBackend('wasm');
});

/** Values with −0 read as 0: TF.js's `dy·mask` gives −0 where a mask gives 0. */
const plain = (v: Float32Array) => Array.from(v, (a) => (a === 0 ? 0 : a));

/** Run `fn` on wasm with the SIMD kernels and without; both results. */
async function bothPaths(fn: () => tf.Tensor | tf.Tensor[]) {
  useSimdKernels(true);
  const simd = await runOn('wasm', fn);
  useSimdKernels(false);
  const js = await runOn('wasm', fn);
  useSimdKernels(true);
  const cpu = await runOn('cpu', fn);
  await tf.setBackend('wasm');
  return { simd: simd.values, js: js.values, cpu: cpu.values };
}

const special = [Number.NaN, 0, -0, 6, -1e-30, 1e-30, 5.9999995, 6.0000005, Infinity, -Infinity, 3];

for (const [name, f] of [
  ['relu', (x: tf.Tensor) => tf.relu(x)],
  ['relu6', (x: tf.Tensor) => tf.relu6(x)],
  ['clipByValue [0, 6]', (x: tf.Tensor) => tf.clipByValue(x, 0, 6)],
  ['clipByValue [-0.5, 0.25]', (x: tf.Tensor) => tf.clipByValue(x, -0.5, 0.25)],
] as const) {
  test(`${name} gradient: SIMD = JS = cpu at boundaries, infinities and NaN`, async () => {
    for (const n of [special.length, 4099]) {
      const r = await bothPaths(() => {
        const x = n === special.length ? tf.tensor(special) : tf.mul(tensor([n], 61, -2, 8), 1);
        const dy = tensor([n], 62, -1, 1);
        return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a), dy)))(x);
      });
      assert.deepEqual(plain(r.simd[0]), plain(r.js[0]), `${name} n=${n}: SIMD vs JS`);
      assert.deepEqual(plain(r.simd[0]), plain(r.cpu[0]), `${name} n=${n}: wasm vs cpu`);
    }
  });
}

test('max-pool gradient (2×2, channels a multiple of 4, ties): SIMD = JS = cpu', async () => {
  for (const shape of [
    [2, 8, 8, 4],
    [3, 9, 7, 12],
  ]) {
    const r = await bothPaths(() => {
      // Quantised relu values: most windows hold several equal maxima.
      const x = tf.relu(tf.div(tf.round(tf.mul(tensor(shape, 63, -1, 1), 2)), 2));
      const dy = tensor([1, 1, 1, shape[3]], 64, 0.5, 2);
      return tf.grad((a: tf.Tensor) =>
        tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), dy)),
      )(x);
    });
    assert.deepEqual(Array.from(r.simd[0]), Array.from(r.js[0]), `${shape}: SIMD vs JS`);
    assert.deepEqual(Array.from(r.simd[0]), Array.from(r.cpu[0]), `${shape}: wasm vs cpu`);
  }
});

test('sum over leading axes (width a multiple of 4): SIMD ≈ JS ≈ cpu', async () => {
  for (const shape of [
    [7, 8],
    [3, 11, 5, 16],
    [64, 13, 13, 32],
  ]) {
    const r = await bothPaths(() =>
      tf.sum(tensor(shape, 65, -1, 1), [0, 1, 2].slice(0, shape.length - 1)),
    );
    assertClose(r.simd[0], r.cpu[0], `${shape}: SIMD vs cpu`, 1e-4, 1e-4);
    assertClose(r.js[0], r.cpu[0], `${shape}: JS vs cpu`, 1e-4, 1e-4);
  }
});

test('sign: SIMD = cpu (1, −1, and 0 for ±0, NaN); wasm denormals keep their sign', async () => {
  const values = [...special, 1e-40, -1e-40, -2.5, 0.5];
  for (const n of [values.length, 4099]) {
    const r = await bothPaths(() =>
      tf.sign(n === values.length ? tf.tensor(values) : tensor([n], 66, -1, 1)),
    );
    assert.deepEqual(plain(r.simd[0]), plain(r.cpu[0]), `n=${n}: SIMD vs cpu`);
  }
});

test('block moves (copy and add, any block length) equal the plain-JS loop', async () => {
  await tf.setBackend('wasm');
  const k = simdKernels(tf.backend());
  assert.ok(k, 'k');
  const info = (t: tf.Tensor) => ({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });
  for (const len of [1, 3, 4, 5, 8, 13]) {
    for (const add of [false, true]) {
      const src = tensor([400], 67, -1, 1);
      const block = {
        batches: 2,
        rows: 3,
        runs: 4,
        len,
        srcBatch: 190,
        srcRow: 47,
        srcRun: len + 2,
        dstBatch: 170,
        dstRow: 4 * len + 3,
        dstRun: len,
      };
      const dst = tensor([400], 68, -1, 1);
      const want = (dst.dataSync() as Float32Array).slice();
      moveBlocksPlain(src.dataSync() as Float32Array, 5, want, 7, block, add);
      k.moveBlocks(info(src), 5, info(dst), 7, block, add);
      assert.deepEqual([...dst.dataSync()], [...want], `len ${len}, add ${add}`);
      tf.dispose([src, dst]);
    }
  }
});

test('one-channel conv gradients (im2col, col2im) and stride-2 input gradients: SIMD = JS = cpu', async () => {
  for (const [shape, stride, pad] of [
    [[2, 9, 8, 1], 1, 'valid'],
    [[3, 7, 7, 1], 2, 'same'],
    [[2, 8, 9, 5], 2, 'same'],
  ] as const) {
    const r = await bothPaths(() => {
      const x = tensor([...shape], 69, -1, 1) as tf.Tensor4D;
      const w = tensor([3, 3, shape[3], 4], 70, -1, 1) as tf.Tensor4D;
      return tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad))),
      )([x, w]);
    });
    for (const [i, what] of ['dx', 'dw'].entries()) {
      assertClose(r.simd[i], r.cpu[i], `${shape} ${what}: SIMD vs cpu`, 1e-4, 1e-4);
      assertClose(r.js[i], r.cpu[i], `${shape} ${what}: JS vs cpu`, 1e-4, 1e-4);
    }
  }
});
