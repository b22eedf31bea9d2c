/** Node-only: pngjs's compressed PNG encoder, for reports written to disk. */
import { PNG } from 'pngjs';
import type { PngEncoder } from './png.js';

export const encodePngPngjs: PngEncoder = (rgba, width, height) => {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return new Uint8Array(PNG.sync.write(png));
};
