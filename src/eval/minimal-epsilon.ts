/**
 * Per-example minimal ε: the smallest budget found to flip an example. The
 * ε sweep already ran the attack on a grid, which brackets each example's
 * first success; bisection then halves the bracket `bisectionSteps` times.
 * Examples sharing a bracket midpoint are attacked together, so a bisection
 * round costs one attack call per distinct midpoint, not per example. An
 * attack's randomness depends on (seed, example index), so running an example
 * in a smaller group gives the same result as in the full batch.
 */
import * as tf from '@tensorflow/tfjs';
import type { Attack } from '../attacks/index.js';
import { disposeResults } from '../attacks/index.js';
import type { Classifier } from '../model/classifier.js';
import type { Goal } from '../threat-model/targets.js';

export interface MinimalSearch {
  attack: Attack;
  model: Classifier;
  x: tf.Tensor4D;
  labels: Int32Array;
  indices: Int32Array;
  goal: Goal;
  seed: number;
  /** Positive grid values, ascending, the last one the search's upper end. */
  grid: readonly number[];
  /** success[k][i]: the attack succeeded on example i at grid[k]. */
  gridSuccess: readonly (readonly boolean[])[];
  /** Examples that count as a success with no perturbation (already wrong, or already at the target). */
  successAtZero: readonly boolean[];
  bisectionSteps: number;
}

export async function minimalEpsilons(s: MinimalSearch): Promise<(number | null)[]> {
  const n = s.labels.length;
  const out: (number | null)[] = new Array(n).fill(null);
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  const open: number[] = [];
  for (let i = 0; i < n; i++) {
    if (s.successAtZero[i]) {
      out[i] = 0;
      continue;
    }
    const k = s.grid.findIndex((_, g) => s.gridSuccess[g][i]);
    if (k < 0) continue;
    lo[i] = k > 0 ? s.grid[k - 1] : 0;
    hi[i] = s.grid[k];
    open.push(i);
  }
  for (let step = 0; step < s.bisectionSteps && open.length > 0; step++) {
    const groups = new Map<number, number[]>();
    for (const i of open) {
      const mid = (lo[i] + hi[i]) / 2;
      const g = groups.get(mid);
      if (g) g.push(i);
      else groups.set(mid, [i]);
    }
    for (const [mid, members] of [...groups].sort((a, b) => a[0] - b[0])) {
      const success = await attackSubset(s, members, mid);
      members.forEach((i, j) => {
        if (success[j]) hi[i] = mid;
        else lo[i] = mid;
      });
    }
  }
  for (const i of open) out[i] = hi[i];
  return out;
}

async function attackSubset(s: MinimalSearch, members: number[], eps: number): Promise<boolean[]> {
  const idx = tf.tensor1d(members, 'int32');
  const x = tf.gather(s.x, idx) as tf.Tensor4D;
  idx.dispose();
  try {
    const results = await s.attack.run(
      s.model,
      {
        x,
        labels: members.map((i) => s.labels[i]),
        goal: s.goal,
        seed: s.seed,
        indices: members.map((i) => s.indices[i]),
      },
      [eps],
    );
    disposeResults(results);
    return results[0].success;
  } finally {
    x.dispose();
  }
}
