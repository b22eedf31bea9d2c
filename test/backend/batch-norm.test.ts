/**
 * advkit's FusedBatchNorm gradient (no tile; scale and offset optional)
 * against central finite differences, on wasm and cpu, with per-channel
 * (rank-1) and broadcast (rank-4) statistics.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import {
  assertClose,
  assertWasmMatchesCpu,
  centralDifferences,
  runOn,
  someCoordinates,
  tensor,
} from './helpers.js';

before(async () => {
  await setBackend('wasm');
});

type Name = 'x' | 'mean' | 'variance' | 'offset' | 'scale';

interface Case {
  x: number[];
  stat: number[];
  scale: boolean;
  offset: boolean;
}

const cases: Case[] = [];
for (const [x, stat] of [
  [[2, 3, 4, 3], [3]],
  [[1, 5, 3, 1], [1]],
  [
    [3, 2, 2, 4],
    [1, 1, 1, 4],
  ],
]) {
  for (const scale of [true, false]) {
    for (const offset of [true, false]) cases.push({ x, stat, scale, offset });
  }
}

function inputsOf(c: Case): Record<Name, tf.Tensor | undefined> {
  return {
    x: tensor(c.x, 31),
    mean: tensor(c.stat, 32, -0.5, 0.5),
    variance: tensor(c.stat, 33, 0.5, 1.5),
    offset: c.offset ? tensor(c.stat, 34) : undefined,
    scale: c.scale ? tensor(c.stat, 35, 0.5, 2) : undefined,
  };
}

/** A smooth scalar of the batch norm: Σ tanh(bn(…))·k. */
function objective(c: Case, v: Record<Name, tf.Tensor | undefined>): tf.Scalar {
  const k = tensor(c.x, 36);
  const y = tf.batchNorm(v.x!, v.mean!, v.variance!, v.offset, v.scale, 1e-3);
  return tf.sum(tf.mul(tf.tanh(y), k));
}

function present(c: Case): Name[] {
  return (['x', 'mean', 'variance', 'offset', 'scale'] as Name[]).filter(
    (n) => (n !== 'offset' || c.offset) && (n !== 'scale' || c.scale),
  );
}

function grads(c: Case): tf.Tensor[] {
  const v = inputsOf(c);
  const names = present(c);
  const f = (...ts: tf.Tensor[]) => {
    const w = { ...v };
    names.forEach((n, i) => {
      w[n] = ts[i];
    });
    return objective(c, w);
  };
  return tf.grads(f)(names.map((n) => v[n]!));
}

function name(c: Case): string {
  return `x ${c.x} stats ${c.stat} scale ${c.scale} offset ${c.offset}`;
}

test(`batch-norm gradients equal central differences over ${cases.length} cases`, async () => {
  for (const c of cases) {
    const analytic = await assertWasmMatchesCpu(name(c), () => grads(c));
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const v = inputsOf(c);
    present(c).forEach((n, i) => {
      const at = someCoordinates(v[n]!.size, 5);
      const fd = centralDifferences((t) => objective(c, { ...v, [n]: t }), v[n]!, at);
      assertClose(
        at.map((j) => analytic[i][j]),
        fd,
        `${name(c)}: d/d${n}`,
        2e-2,
        2e-2,
      );
    });
    tf.dispose(Object.values(v).filter((t): t is tf.Tensor => t != null));
    assert.equal(tf.memory().numTensors, before, 'finite differences leaked');
  }
});

test('batch norm without scale: only the input gradient, no leak (stock TF.js throws)', async () => {
  const { values } = await runOn('wasm', () => {
    const c = cases.find((k) => !k.scale && k.offset)!;
    const v = inputsOf(c);
    return tf.grad((x: tf.Tensor) => objective(c, { ...v, x }))(v.x!);
  });
  assert.ok(
    values[0].some((g) => g !== 0),
    'values[0].some((g) => g !== 0)',
  );
});

test('batch-norm forward on wasm (one XNNPACK pass for per-channel statistics) equals cpu', async () => {
  for (const c of [
    ...cases,
    { x: [64, 8, 8, 16], stat: [16], scale: true, offset: true },
    { x: [5, 7], stat: [7], scale: true, offset: false },
    { x: [9], stat: [9], scale: false, offset: true },
  ]) {
    await assertWasmMatchesCpu(`forward ${name(c)}`, () => {
      const v = inputsOf(c);
      return tf.batchNorm(v.x!, v.mean!, v.variance!, v.offset, v.scale, 1e-3);
    });
  }
});
