/**
 * Running a TranslatedGraph: nodes in order, each intermediate freed after
 * its last reader (safe under tf.grad too: TF.js's tape keeps its own
 * copies of what the backward pass needs). A graph fixed to one batch size
 * runs larger batches in chunks of that size (the last chunk padded with
 * zeros, its padding rows dropped).
 */
import * as tf from '@tensorflow/tfjs';
import type { TranslatedGraph } from './graph.js';

/** Per value, the index of the last node reading it (-1: none); the same whichever value a run stops at. */
const lastUses = new WeakMap<TranslatedGraph, number[]>();

function lastUseFor(g: TranslatedGraph): number[] {
  let last = lastUses.get(g);
  if (!last) {
    last = new Array<number>(g.values.length).fill(-1);
    for (const [k, n] of g.nodes.entries()) for (const i of n.inputs) last[i] = k;
    lastUses.set(g, last);
  }
  return last;
}

function runOnce(g: TranslatedGraph, x: tf.Tensor4D, output: number): tf.Tensor {
  const last = lastUseFor(g);
  const vals: (tf.Tensor | undefined)[] = new Array(g.values.length);
  vals[0] = x;
  for (let k = 0; k < g.nodes.length; k++) {
    const n = g.nodes[k];
    if (n.output > output && vals[output]) break;
    vals[n.output] = n.apply(n.inputs.map((i) => vals[i] as tf.Tensor));
    for (const i of n.inputs)
      if (last[i] === k && i !== 0 && i !== output) {
        vals[i]?.dispose();
        vals[i] = undefined;
      }
    if (n.output === output) break;
  }
  const out = vals[output] as tf.Tensor;
  vals.forEach((v, i) => {
    if (v && i !== 0 && i !== output) v.dispose();
  });
  return out;
}

/** The graph's value `output` (default: its output) for the NHWC batch `x`. */
export function runGraph(g: TranslatedGraph, x: tf.Tensor4D, output = g.output): tf.Tensor {
  const fixed = g.fixedBatch;
  const n = x.shape[0];
  if (fixed === undefined || n === fixed) return tf.tidy(() => runOnce(g, x, output));
  return tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    for (let start = 0; start < n; start += fixed) {
      const size = Math.min(fixed, n - start);
      let chunk = tf.slice(x, [start, 0, 0, 0], [size, -1, -1, -1]);
      if (size < fixed)
        chunk = tf.pad(chunk, [
          [0, fixed - size],
          [0, 0],
          [0, 0],
          [0, 0],
        ]);
      const y = runOnce(g, chunk as tf.Tensor4D, output);
      parts.push(size < fixed ? tf.slice(y, 0, size) : y);
    }
    return tf.concat(parts, 0);
  });
}
