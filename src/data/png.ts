/** Node-only PNG writing (pngjs: compressed). */
import { writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { fromBounds, toRgba } from './rgba.js';

/** Encode 8-bit RGBA pixels as a compressed PNG. */
export function encodeRgbaPng(rgba: Uint8Array, width: number, height: number): Uint8Array {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return new Uint8Array(PNG.sync.write(png));
}

/** Encode a pixel-space image [h, w, c] (c = 1 or 3) with the given bounds. */
export function encodePng(
  pixels: ArrayLike<number>,
  shape: readonly [number, number, number] | readonly number[],
  bounds: readonly [number, number] | readonly number[],
): Uint8Array {
  const [h, w, c] = shape;
  return encodeRgbaPng(toRgba(pixels, c, fromBounds(bounds)), w, h);
}

export function writePng(
  file: string,
  pixels: ArrayLike<number>,
  shape: readonly [number, number, number],
  bounds: readonly [number, number],
): void {
  writeFileSync(file, encodePng(pixels, shape, bounds));
}
