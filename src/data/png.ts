/** Node-only PNG writing (pngjs: compressed). */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { InputError } from '../errors.js';
import { fromBounds, toRgba } from './rgba.js';

/**
 * Encode 8-bit RGBA pixels as a compressed PNG; `colorType` picks the stored
 * form (6 RGBA, the default; 2 RGB; 0 gray, which keeps the R channel).
 */
export function encodeRgbaPng(
  rgba: Uint8Array,
  width: number,
  height: number,
  colorType: 0 | 2 | 6 = 6,
): Uint8Array {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return new Uint8Array(PNG.sync.write(png, { colorType, inputColorType: 6 }));
}

/**
 * Encode one pixel-space image [h, w, c] whose values lie in `bounds` (values
 * outside are clamped) as an 8-bit PNG: gray for c = 1, RGB for c = 3.
 */
export function encodePng(
  pixels: ArrayLike<number>,
  shape: readonly [number, number, number] | readonly number[],
  bounds: readonly [number, number] | readonly number[],
): Uint8Array {
  const [h, w, c] = shape;
  if (
    shape.length !== 3 ||
    ![h, w].every((d) => Number.isInteger(d) && d > 0) ||
    (c !== 1 && c !== 3) ||
    pixels.length !== h * w * c
  ) {
    throw new InputError(
      'INVALID_SHAPE',
      `encodePng: shape must be [height, width, 1 or 3] matching the ${pixels.length} pixel values; received [${shape}]`,
    );
  }
  if (!(bounds[0] < bounds[1])) {
    throw new InputError(
      'INVALID_OPTION',
      `encodePng: bounds must be [lo, hi] with lo < hi; received [${bounds}]`,
    );
  }
  return encodeRgbaPng(toRgba(pixels, c, fromBounds(bounds)), w, h, c === 1 ? 0 : 2);
}

/** Write one image as a PNG file (see `encodePng`), creating its folder if needed. */
export function writePng(
  file: string,
  pixels: ArrayLike<number>,
  shape: readonly [number, number, number],
  bounds: readonly [number, number],
): void {
  const bytes = encodePng(pixels, shape, bounds);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}
