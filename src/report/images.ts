/**
 * Image grids: per example the original, the perturbation amplified (with
 * its scale) and the adversarial image, as PNG bytes.
 */

import { toRgba } from '../data/rgba.js';
import type { ImageExample, ImageGrid } from '../eval/types.js';
import type { PngEncoder } from './png.js';

export interface RenderedExample {
  example: ImageExample;
  original: Uint8Array;
  perturbation: Uint8Array;
  adversarial: Uint8Array;
}

export interface RenderedGrid {
  grid: ImageGrid;
  /** δ is shown as 0.5 + scale·δ/(hi − lo), mid-grey meaning no change. */
  scale: number;
  /** Largest |δ| over the grid, in pixel units. */
  maxAbsDelta: number;
  examples: RenderedExample[];
}

export function renderGrid(
  grid: ImageGrid,
  bounds: readonly [number, number],
  encode: PngEncoder,
): RenderedGrid {
  const [h, w, c] = grid.shape;
  const [lo, hi] = bounds;
  const range = hi - lo;
  let maxAbsDelta = 0;
  for (const e of grid.examples) {
    for (let i = 0; i < e.original.length; i++) {
      maxAbsDelta = Math.max(maxAbsDelta, Math.abs(e.adversarial[i] - e.original[i]));
    }
  }
  // Amplify so the largest |δ| reaches black or white.
  const scale = maxAbsDelta > 0 ? (0.5 * range) / maxAbsDelta : 1;
  const pixel = (v: number) => (v - lo) / range;
  return {
    grid,
    scale,
    maxAbsDelta,
    examples: grid.examples.map((e) => {
      const delta = e.adversarial.map((v, i) => v - e.original[i]);
      return {
        example: e,
        original: encode(toRgba(e.original, c, pixel), w, h),
        perturbation: encode(
          toRgba(delta, c, (v) => 0.5 + (scale * v) / range),
          w,
          h,
        ),
        adversarial: encode(toRgba(e.adversarial, c, pixel), w, h),
      };
    }),
  };
}
