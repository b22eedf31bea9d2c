/**
 * JPEG decoding in pure JavaScript (jpeg-js; browser-safe), to an 8-bit RGB
 * image. jpeg-js converts greyscale and CMYK/YCCK (Adobe) JPEGs to RGB (CMYK
 * without ICC colour management, so print-profile colours shift a little); the
 * EXIF orientation tag is applied, as browsers and phones show the photo
 * (PIL, and so torchvision's `ImageFolder`, do not: a rotated camera JPEG
 * reaches a PyTorch model on its side; `orientation: 'ignore'` does the same).
 * Pixel values can differ from libjpeg's (PIL's) by a few levels: the inverse
 * DCT and chroma upsampling are not the same code.
 */
import jpeg from 'jpeg-js';
import { LoadError } from '../errors.js';
import type { Image8 } from './image.js';

export interface DecodedPhoto {
  image: Image8;
  /** What decoding converted, e.g. "EXIF orientation 6 applied (rotated 90° clockwise)". */
  conversions: string[];
}

/** Whether `bytes` start as a JPEG does (SOI, then a marker): the format is read from the bytes, not the file name. */
export const isJpeg = (bytes: Uint8Array): boolean =>
  bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;

/** The APP markers and frame header of a JPEG: its component count (1 grey, 3 YCbCr, 4 CMYK). */
function jpegComponents(bytes: Uint8Array): number | undefined {
  let i = 2;
  while (i + 9 < bytes.length && bytes[i] === 0xff) {
    const marker = bytes[i + 1];
    const len = (bytes[i + 2] << 8) | bytes[i + 3];
    // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the component count.
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return bytes[i + 9];
    }
    i += 2 + len;
  }
  return undefined;
}

/** The EXIF orientation (1–8) in an APP1 payload after "Exif\0", or 1. */
export function exifOrientation(exif: Uint8Array | undefined): number {
  if (!exif) return 1;
  // jpeg-js hands over the payload after 5 of the 6 "Exif\0\0" bytes.
  const t = exif[0] === 0 ? 1 : 0;
  if (exif.length < t + 8) return 1;
  const little = exif[t] === 0x49 && exif[t + 1] === 0x49;
  if (!little && !(exif[t] === 0x4d && exif[t + 1] === 0x4d)) return 1;
  const u16 = (o: number) =>
    little ? exif[t + o] | (exif[t + o + 1] << 8) : (exif[t + o] << 8) | exif[t + o + 1];
  const u32 = (o: number) => u16(little ? o + 2 : o) * 65536 + u16(little ? o : o + 2);
  const ifd = u32(4);
  if (ifd + 2 > exif.length - t) return 1;
  const n = u16(ifd);
  for (let e = 0; e < n; e++) {
    const at = ifd + 2 + e * 12;
    if (at + 12 > exif.length - t) break;
    if (u16(at) === 0x0112) {
      const v = u16(at + 8);
      return v >= 1 && v <= 8 ? v : 1;
    }
  }
  return 1;
}

const ORIENTATION_TEXT: Record<number, string> = {
  2: 'mirrored left–right',
  3: 'rotated 180°',
  4: 'mirrored top–bottom',
  5: 'transposed',
  6: 'rotated 90° clockwise',
  7: 'transversed',
  8: 'rotated 90° anticlockwise',
};

/**
 * The image as it should be viewed under EXIF orientation `o`: output pixel
 * (x, y) reads the stored pixel the tag maps there.
 */
export function applyOrientation(img: Image8, o: number): Image8 {
  if (o === 1 || !ORIENTATION_TEXT[o]) return img;
  const { width: W, height: H, channels: c, data } = img;
  const swap = o >= 5;
  const w = swap ? H : W;
  const h = swap ? W : H;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sx: number;
      let sy: number;
      switch (o) {
        case 2:
          [sx, sy] = [W - 1 - x, y];
          break;
        case 3:
          [sx, sy] = [W - 1 - x, H - 1 - y];
          break;
        case 4:
          [sx, sy] = [x, H - 1 - y];
          break;
        case 5:
          [sx, sy] = [y, x];
          break;
        case 6:
          [sx, sy] = [y, H - 1 - x];
          break;
        case 7:
          [sx, sy] = [W - 1 - y, H - 1 - x];
          break;
        default:
          [sx, sy] = [W - 1 - y, x];
          break; // 8
      }
      const from = (sy * W + sx) * c;
      out.set(data.subarray(from, from + c), (y * w + x) * c);
    }
  }
  return { width: w, height: h, channels: c, data: out };
}

/** Decode a JPEG to RGB; `where` (the file name) goes into every error. */
export function decodeJpeg(
  bytes: Uint8Array,
  where: string,
  options: { orientation?: 'apply' | 'ignore' } = {},
): DecodedPhoto {
  let raw: { width: number; height: number; data: Uint8Array; exifBuffer?: Uint8Array };
  try {
    raw = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 1024 });
  } catch (e) {
    throw new LoadError(
      'DATA_LOAD',
      `cannot decode the JPEG ${where}: ${(e as Error).message}; the file is corrupt, truncated or an unsupported JPEG (arithmetic-coded or 12-bit)`,
      e,
    );
  }
  if (!(raw.width > 0 && raw.height > 0) || raw.data.length !== raw.width * raw.height * 3) {
    throw new LoadError(
      'DATA_LOAD',
      `cannot decode the JPEG ${where}: it decoded to ${raw.width}×${raw.height} with ${raw.data.length} bytes; the file is corrupt or truncated`,
    );
  }
  const conversions: string[] = [];
  const components = jpegComponents(bytes);
  if (components === 1) conversions.push('grey JPEG → RGB');
  if (components === 4) conversions.push('CMYK JPEG → RGB');
  let image: Image8 = { width: raw.width, height: raw.height, channels: 3, data: raw.data };
  const o = exifOrientation(raw.exifBuffer);
  if (o !== 1) {
    if ((options.orientation ?? 'apply') === 'apply') {
      image = applyOrientation(image, o);
      conversions.push(`EXIF orientation ${o} applied (${ORIENTATION_TEXT[o]})`);
    } else conversions.push(`EXIF orientation ${o} ignored (as PIL does)`);
  }
  return { image, conversions };
}
