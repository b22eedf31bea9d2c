/** Small helpers the adapters share. */
import type { Head, OutputKind } from './types.js';

export const headFor = (output: OutputKind): Head =>
  output === 'probabilities' ? 'log' : 'logits';

/** [h, w, c] of a 4-D input shape whose non-batch dimensions are all fixed. */
export function staticInputShape(
  shape: readonly (number | null)[] | undefined,
): number[] | undefined {
  if (shape?.length !== 4) return undefined;
  const hwc = shape.slice(1);
  return hwc.every((d) => typeof d === 'number' && d > 0) ? (hwc as number[]) : undefined;
}
