/**
 * Shared helpers for the backend kernel tests: seeded data, running the same
 * computation on wasm and on the cpu reference with a leak check, and
 * tolerance-aware comparisons.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';

/** Deterministic values in [lo, hi) from a 32-bit LCG. */
export function seeded(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return out;
}

export function size(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function tensor(shape: number[], seed: number, lo = -1, hi = 1): tf.Tensor {
  return tf.tensor(seeded(size(shape), seed, lo, hi), shape);
}

/**
 * Run `fn` on `backend` inside a tidy, read its outputs, dispose them and
 * assert that the number of live tensors is back where it started.
 */
export async function runOn(
  backend: string,
  fn: () => tf.Tensor | tf.Tensor[],
): Promise<{ values: Float32Array[]; shapes: number[][] }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const out = tf.tidy(fn);
  const list = Array.isArray(out) ? out : [out];
  const values = list.map((t) => t.dataSync() as Float32Array);
  const shapes = list.map((t) => t.shape);
  tf.dispose(list);
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  return { values, shapes };
}

/** Assert |a − b| ≤ atol + rtol·|b| elementwise, naming the first failure. */
export function assertClose(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  what: string,
  atol = 1e-4,
  rtol = 1e-4,
): void {
  assert.equal(a.length, b.length, `${what}: lengths ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    const tol = atol + rtol * Math.abs(b[i]);
    if (!(Math.abs(a[i] - b[i]) <= tol)) {
      assert.fail(`${what}: element ${i} is ${a[i]}, expected ${b[i]} (±${tol})`);
    }
  }
}

/** The same computation on wasm and on cpu agree (and neither leaks). */
export async function assertWasmMatchesCpu(
  what: string,
  fn: () => tf.Tensor | tf.Tensor[],
  atol = 1e-4,
): Promise<Float32Array[]> {
  const wasm = await runOn('wasm', fn);
  const cpu = await runOn('cpu', fn);
  assert.deepEqual(wasm.shapes, cpu.shapes, `${what}: shapes`);
  wasm.values.forEach((v, i) => {
    assertClose(v, cpu.values[i], `${what} [output ${i}]`, atol, atol);
  });
  return wasm.values;
}

/** Σ a·b over two tensors of the same size. */
export function dot(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.sum(tf.mul(a, b));
}

/**
 * Central differences of scalar `f` at `x` on the coordinates `at`:
 * (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε, computed in float64 on the host.
 */
export function centralDifferences(
  f: (x: tf.Tensor) => tf.Scalar,
  x: tf.Tensor,
  at: number[],
  eps = 1e-2,
): number[] {
  const base = x.dataSync();
  return at.map((i) => {
    const plus = Float32Array.from(base);
    const minus = Float32Array.from(base);
    plus[i] += eps;
    minus[i] -= eps;
    const fp = tf.tidy(() => f(tf.tensor(plus, x.shape)).dataSync()[0]);
    const fm = tf.tidy(() => f(tf.tensor(minus, x.shape)).dataSync()[0]);
    return (fp - fm) / (2 * eps);
  });
}

/** A few spread-out coordinates of a tensor of `n` elements. */
export function someCoordinates(n: number, count = 6): number[] {
  const step = Math.max(1, Math.floor(n / count));
  return Array.from({ length: Math.min(count, n) }, (_, i) => (i * step + 7 * i) % n);
}
