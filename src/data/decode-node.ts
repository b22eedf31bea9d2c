/**
 * One photo file to an 8-bit image at its own size (Node): JPEG through
 * jpeg-js and PNG through pngjs (both pure JavaScript, so a photo decodes to
 * the same pixels everywhere), other formats (WebP, GIF, TIFF, AVIF) through
 * sharp. The format is read from the file's first bytes, not its name.
 */
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { LoadError } from '../errors.js';
import type { Image8 } from './image.js';
import { type DecodedPhoto, decodeJpeg, isJpeg } from './jpeg.js';

const isPng = (b: Uint8Array) =>
  b.length > 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;

/** Decode a PNG to grey, RGB or RGBA (8 bits; 16-bit PNGs are rounded to 8). */
export function decodePng(bytes: Uint8Array, where: string): DecodedPhoto {
  // pngjs keeps the header's fields on the object; its types omit them.
  let png: PNG & { depth: number; color: boolean; palette: boolean; alpha: boolean };
  try {
    png = PNG.sync.read(
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    ) as typeof png;
  } catch (e) {
    throw new LoadError(
      'DATA_LOAD',
      `cannot decode the PNG ${where}: ${(e as Error).message}; the file is corrupt or truncated`,
      e,
    );
  }
  const conversions: string[] = [];
  if (png.depth === 16) conversions.push('16-bit PNG reduced to 8 bits');
  const px = png.width * png.height;
  const rgba = new Uint8Array(png.data.buffer, png.data.byteOffset, px * 4);
  // pngjs always hands back RGBA; keep what the file held (grey, RGB, alpha).
  const grey = !png.color && !png.palette;
  const channels = grey && !png.alpha ? 1 : png.alpha ? 4 : 3;
  const data = new Uint8Array(px * channels);
  for (let p = 0; p < px; p++) {
    if (channels === 1) data[p] = rgba[p * 4];
    else for (let k = 0; k < channels; k++) data[p * channels + k] = rgba[p * 4 + k];
  }
  // Grey with alpha comes back as RGBA; plain grey stays one channel (photoPixels notes its expansion, if any).
  if (grey && channels === 4) conversions.push('grey PNG → RGB');
  return { image: { width: png.width, height: png.height, channels, data }, conversions };
}

async function decodeOther(bytes: Uint8Array, where: string): Promise<DecodedPhoto> {
  try {
    const { data, info } = await sharp(bytes)
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const image: Image8 = {
      width: info.width,
      height: info.height,
      channels: 4,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    };
    return { image, conversions: [] };
  } catch (e) {
    throw new LoadError(
      'DATA_LOAD',
      `cannot read image ${where}: ${(e as Error).message}; expected a JPEG or PNG photo (or WebP, GIF, TIFF, AVIF)`,
      e,
    );
  }
}

/** Decode the photo file `file` at its own size; errors name the file. */
export async function decodePhotoFile(
  file: string,
  options: { orientation?: 'apply' | 'ignore' } = {},
): Promise<DecodedPhoto> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (e) {
    throw new LoadError('DATA_LOAD', `cannot read image ${file}: ${(e as Error).message}`, e);
  }
  if (bytes.length === 0) {
    throw new LoadError(
      'DATA_LOAD',
      `image ${file} is empty (0 bytes); expected a JPEG or PNG photo`,
    );
  }
  if (isJpeg(bytes)) return decodeJpeg(bytes, file, options);
  if (isPng(bytes)) return decodePng(bytes, file);
  return decodeOther(bytes, file);
}
