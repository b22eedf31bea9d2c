/**
 * Broadcasting binary kernels on wasm (operands tiled first, see
 * `src/backend/broadcast.ts`) against the cpu backend: per-row and
 * per-column operands, a lower-rank operand, both operands broadcast, and a
 * single value (TF.js's own fast path); comparisons and logical ops exact,
 * pow / mod / atan2 to float rounding (their math differs by backend); no
 * tensors or backend data left behind.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { assertClose, runOn, tensor } from './helpers.js';

before(async () => {
  await setBackend('wasm');
});

const pairs: [number[], number[]][] = [
  [
    [5, 7],
    [5, 1],
  ],
  [
    [5, 7],
    [1, 7],
  ],
  [[3, 1, 4], [4]],
  [
    [3, 1],
    [1, 4],
  ],
  [[2, 3, 4], []],
];

type Op = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
const exact: [string, Op][] = [
  ['equal', tf.equal],
  ['notEqual', tf.notEqual],
  ['greater', tf.greater],
  ['greaterEqual', tf.greaterEqual],
  ['less', tf.less],
  ['lessEqual', tf.lessEqual],
  ['minimum', tf.minimum],
  ['maximum', tf.maximum],
  // Divisors kept away from 0, where the two backends' kernels differ anyway.
  ['floorDiv', (a, b) => tf.floorDiv(a, tf.add(tf.abs(b), 1))],
  ['logicalAnd', (a, b) => tf.logicalAnd(tf.greater(a, 0), tf.greater(b, 0))],
  ['logicalOr', (a, b) => tf.logicalOr(tf.greater(a, 0), tf.greater(b, 0))],
];
const rounded: [string, Op][] = [
  ['pow', (a, b) => tf.pow(tf.abs(a), b)],
  ['mod', (a, b) => tf.mod(a, tf.add(tf.abs(b), 1))],
  ['atan2', tf.atan2],
];

test('broadcast binary ops on wasm equal cpu', async () => {
  for (const [name, op] of [...exact, ...rounded]) {
    for (const [sa, sb] of pairs) {
      // Rounded values, so that comparisons meet ties.
      const f = () =>
        tf.cast(op(tf.round(tensor(sa, 61, -3, 3)), tf.round(tensor(sb, 62, -3, 3))), 'float32');
      for (const [what, g] of [
        [`${name} ${sa} with ${sb}`, f],
        [
          `${name} ${sb} with ${sa}`,
          () =>
            tf.cast(
              op(tf.round(tensor(sb, 63, -3, 3)), tf.round(tensor(sa, 64, -3, 3))),
              'float32',
            ),
        ],
      ] as const) {
        const wasm = await runOn('wasm', g);
        const cpu = await runOn('cpu', g);
        assert.deepEqual(wasm.shapes, cpu.shapes, what);
        // NaN and infinities made comparable; −0 as 0 (wasm's floorDiv gives −0
        // where cpu's int32 result has 0).
        const nan = (v: Float32Array) =>
          v.map((x) => (Number.isNaN(x) ? 1e9 : Number.isFinite(x) ? x + 0 : Math.sign(x) * 2e9));
        if (exact.some(([n]) => n === name))
          assert.deepEqual(Array.from(nan(wasm.values[0])), Array.from(nan(cpu.values[0])), what);
        else assertClose(nan(wasm.values[0]), nan(cpu.values[0]), what, 1e-5, 1e-5);
      }
    }
  }
  await tf.setBackend('wasm');
});

test('tiled operands are freed', async () => {
  await tf.setBackend('wasm');
  const a = tensor([64, 784], 65);
  const m = tf.max(a, 1, true);
  tf.dispose(tf.equal(a, m));
  const dataIds = tf.engine().backend.numDataIds();
  const tensors = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) tf.dispose([tf.equal(a, m), tf.minimum(a, m), tf.maximum(a, 0.5)]);
  assert.equal(tf.memory().numTensors, tensors, 'tensors');
  assert.equal(tf.engine().backend.numDataIds(), dataIds, 'backend data');
  tf.dispose([a, m]);
});
