/**
 * FAB's per-example arithmetic on flat rows (an example is d numbers, row j
 * of an array): the step from x1 towards the linearised boundary, the random
 * restart point and a row's distance. Plain arrays, like the projection the
 * step is built on (`fab-projection.ts`).
 */
import type { Rng } from '../threat-model/rng.js';
import { type PlaneNorm, planeScratch, projectOntoPlaneInBox } from './fab-projection.js';

export interface FabStepConfig {
  norm: PlaneNorm;
  lo: number;
  hi: number;
  alphaMax: number;
  eta: number;
}

/**
 * The FAB step of row j, in place: project x1 and x0 onto the linearised
 * boundary inside the box, and move to the α-mix of the two projections,
 * each extrapolated by η, clipped to the box. `gap` is the boundary's value
 * z_t − z_y at x1 and `grad` its gradient.
 */
export function fabStepper(
  cfg: FabStepConfig,
  d: number,
): (x0: Float32Array, x1: Float32Array, j: number, grad: Float32Array, gap: number) => void {
  const { norm, lo, hi, alphaMax, eta } = cfg;
  const scratch = planeScratch(d);
  const d1 = new Float64Array(d);
  const d2 = new Float64Array(d);
  return (x0, x1, j, grad, gap) => {
    const row = j * d;
    const p = x1.subarray(row, row + d);
    const o = x0.subarray(row, row + d);
    const w = grad.subarray(row, row + d);
    // The linearised boundary's value at x1 is the gap itself; at x0 it
    // differs by ⟨w, x0 − x1⟩ (no b = ⟨w, x1⟩ − gap to lose digits to).
    let atOrigin = gap;
    for (let i = 0; i < d; i++) atOrigin += w[i] * (o[i] - p[i]);
    const a1 = Math.max(projectOntoPlaneInBox(norm, p, w, gap, lo, hi, d1, scratch), 1e-8);
    const a2 = Math.max(projectOntoPlaneInBox(norm, o, w, atOrigin, lo, hi, d2, scratch), 1e-8);
    const alpha = Math.min(Math.max(a1 / (a1 + a2), 0), alphaMax);
    for (let i = 0; i < d; i++) {
      const v = (p[i] + eta * d1[i]) * (1 - alpha) + (o[i] + eta * d2[i]) * alpha;
      p[i] = Math.min(Math.max(v, lo), hi);
    }
  };
}

/**
 * Each row of x0 plus a random direction from that row's generator (uniform
 * in the cube for L∞, Gaussian for L2) scaled to norm `radius`, clipped to
 * [lo, hi].
 */
export function randomNear(
  x0: Float32Array,
  rngs: readonly Rng[],
  norm: PlaneNorm,
  radius: number,
  lo: number,
  hi: number,
): Float32Array {
  const d = x0.length / rngs.length;
  const out = new Float32Array(x0.length);
  const dir = new Float64Array(d);
  for (const [j, rng] of rngs.entries()) {
    let size = 0;
    for (let c = 0; c < d; c++) {
      dir[c] = norm === 'linf' ? 2 * rng.next() - 1 : rng.normal();
      size = norm === 'linf' ? Math.max(size, Math.abs(dir[c])) : size + dir[c] * dir[c];
    }
    if (norm === 'l2') size = Math.sqrt(size);
    const scale = size > 0 ? radius / size : 0;
    for (let c = 0; c < d; c++) {
      const v = x0[j * d + c] + dir[c] * scale;
      out[j * d + c] = Math.min(Math.max(v, lo), hi);
    }
  }
  return out;
}

/** ‖a_j − b_j‖ of row j, in float64. */
export function rowDistance(
  norm: PlaneNorm,
  a: Float32Array,
  b: Float32Array,
  j: number,
  d: number,
): number {
  let size = 0;
  for (let i = j * d; i < (j + 1) * d; i++) {
    const v = Math.abs(a[i] - b[i]);
    size = norm === 'linf' ? Math.max(size, v) : size + v * v;
  }
  return norm === 'linf' ? size : Math.sqrt(size);
}
