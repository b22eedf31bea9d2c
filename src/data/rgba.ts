/** Pixel arrays [h, w, c] to 8-bit RGBA, for PNG encoders (browser-safe). */

/**
 * `map` sends a stored value to [0, 1] (values outside are clamped); one
 * channel is shown as gray, three as RGB.
 */
export function toRgba(
  values: ArrayLike<number>,
  channels: number,
  map: (v: number) => number,
): Uint8Array {
  const px = values.length / channels;
  const out = new Uint8Array(px * 4);
  for (let p = 0; p < px; p++) {
    for (let k = 0; k < 3; k++) {
      const v = map(values[p * channels + (channels === 1 ? 0 : Math.min(k, channels - 1))]);
      out[p * 4 + k] = Math.round(255 * Math.min(1, Math.max(0, v)));
    }
    out[p * 4 + 3] = 255;
  }
  return out;
}

/** The map from pixel space with bounds [lo, hi] to [0, 1]. */
export function fromBounds(bounds: readonly number[]): (v: number) => number {
  const [lo, hi] = bounds;
  return (v) => (v - lo) / (hi - lo);
}
