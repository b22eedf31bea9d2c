/**
 * Seeded epoch order and batch assembly. The order of epoch e depends only on
 * (seed, e), and every random start of the training attack on (seed, e,
 * example index), so a resumed run draws exactly what an uninterrupted one
 * would.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../threat-model/rng.js';
import type { TrainingData } from './options.js';

/** A 32-bit seed for (seed, epoch, stream). */
export function epochSeed(seed: number, epoch: number, stream: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const v of [epoch, stream]) {
    h = Math.imul(h ^ v ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  }
  return (h ^ (h >>> 16)) >>> 0;
}

/** Fisher–Yates permutation of 0..n−1 from a seeded generator. */
export function permutation(n: number, seed: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const rng = createRng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

export interface Batch {
  x: tf.Tensor4D;
  labels: Int32Array;
  /** Positions of the batch's examples in the data set. */
  indices: Int32Array;
}

/** The examples at `indices`, as one tensor. */
export function gatherBatch(
  data: TrainingData,
  indices: Int32Array,
  inputShape: readonly [number, number, number],
): Batch {
  const d = inputShape[0] * inputShape[1] * inputShape[2];
  const buf = new Float32Array(indices.length * d);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i];
    buf.set(data.images.subarray(k * d, (k + 1) * d), i * d);
    labels[i] = data.labels[k];
  }
  return { x: tf.tensor4d(buf, [indices.length, ...inputShape]), labels, indices };
}
