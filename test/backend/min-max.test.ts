/**
 * advkit's wasm `Minimum` / `Maximum` (SIMD, same-shape float32) against
 * the cpu backend, value for value: NaN in either input, −0 against +0,
 * infinities, an odd length (the SIMD loop's tail); broadcasting and int32
 * (the stock kernels) too; and the L∞ projection built on them.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { Linf } from '../../src/threat-model/norms.js';
import { runOn, seeded } from './helpers.js';

before(async () => {
  await setBackend('wasm');
});

const special = [Number.NaN, 0, -0, 1, -1, Infinity, -Infinity, 1e-40, -1e-40, 3];

/** a and b with every pair of special values, then seeded values: 1 + 100 + 1001 values. */
function operands(): [Float32Array, Float32Array] {
  const n = special.length ** 2 + 1001;
  const a = seeded(n, 51, -2, 2);
  const b = seeded(n, 52, -2, 2);
  special.forEach((u, i) => {
    special.forEach((v, j) => {
      a[i * special.length + j] = u;
      b[i * special.length + j] = v;
    });
  });
  return [a, b];
}

function sameValues(x: Float32Array, y: Float32Array, what: string): void {
  assert.equal(x.length, y.length, `${what}: lengths`);
  for (let i = 0; i < x.length; i++)
    if (!Object.is(x[i], y[i])) assert.fail(`${what}: element ${i} is ${x[i]}, cpu gives ${y[i]}`);
}

test('minimum and maximum on wasm equal cpu, NaN and signed zeros included', async () => {
  const [a, b] = operands();
  for (const [name, op] of [
    ['minimum', tf.minimum],
    ['maximum', tf.maximum],
  ] as const) {
    const cases: [string, () => tf.Tensor][] = [
      ['same shape', () => op(tf.tensor(a), tf.tensor(b))],
      ['broadcast', () => op(tf.tensor(a).reshape([a.length, 1]), tf.tensor([0.5, -0.5]))],
      [
        'int32',
        () =>
          tf.cast(
            op(tf.tensor([3, -1, 0], undefined, 'int32'), tf.tensor([2, 2, 0], undefined, 'int32')),
            'float32',
          ),
      ],
    ];
    for (const [what, f] of cases) {
      const wasm = await runOn('wasm', f);
      const cpu = await runOn('cpu', f);
      sameValues(wasm.values[0], cpu.values[0], `${name}, ${what}`);
    }
  }
  await tf.setBackend('wasm');
});

test('the L∞ projection around a clean batch equals cpu', async () => {
  const f = () => {
    const x0 = tf.tensor(seeded(2 * 7 * 7 * 3, 53, 0, 1), [2, 7, 7, 3]);
    const x = tf.tensor(seeded(2 * 7 * 7 * 3, 54, -0.2, 1.2), [2, 7, 7, 3]);
    return Linf.projectAround(x, x0, 0.1);
  };
  const wasm = await runOn('wasm', f);
  const cpu = await runOn('cpu', f);
  sameValues(wasm.values[0], cpu.values[0], 'projection');
  await tf.setBackend('wasm');
});
