/**
 * An 8-bit image in memory, row-major [height, width, channels] (browser-safe):
 * what the decoders produce and what resizing and cropping work on. Kept in
 * 8 bits until the very end so that every step rounds where PIL does, and
 * torchvision's preprocessing of the same file gives the same pixels.
 */
import { InputError } from '../errors.js';

export interface Image8 {
  width: number;
  height: number;
  /** 1 (grey), 3 (RGB) or 4 (RGBA). */
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

export function checkImage8(img: Image8, where: string): void {
  const { width: w, height: h, channels: c, data } = img;
  if (
    ![w, h].every((d) => Number.isInteger(d) && d > 0) ||
    ![1, 3, 4].includes(c) ||
    !(data instanceof Uint8Array) ||
    data.length !== w * h * c
  ) {
    throw new InputError(
      'INVALID_SHAPE',
      `${where}: expected an 8-bit image { width, height, channels 1|3|4, data of width·height·channels bytes }; received ${w}×${h}×${c} with ${data?.length} bytes`,
    );
  }
}

/**
 * RGBA with any transparency composited onto black (what the folder loader
 * has always done), or dropped when every pixel is opaque.
 */
export function dropAlpha(img: Image8): { image: Image8; flattened: boolean } {
  if (img.channels !== 4) return { image: img, flattened: false };
  const px = img.width * img.height;
  const out = new Uint8Array(px * 3);
  let flattened = false;
  for (let p = 0; p < px; p++) {
    const a = img.data[p * 4 + 3];
    if (a !== 255) flattened = true;
    for (let k = 0; k < 3; k++) out[p * 3 + k] = Math.round((img.data[p * 4 + k] * a) / 255);
  }
  return { image: { width: img.width, height: img.height, channels: 3, data: out }, flattened };
}

/**
 * Grey ↔ RGB. RGB → grey is PIL's `convert('L')`, ITU-R 601-2 luma
 * (R·299 + G·587 + B·114) / 1000 in PIL's 16-bit fixed point; grey → RGB
 * repeats the value.
 */
export function toChannels(img: Image8, channels: 1 | 3): Image8 {
  const rgb = dropAlpha(img).image;
  if (rgb.channels === channels) return rgb;
  const px = rgb.width * rgb.height;
  const out = new Uint8Array(px * channels);
  if (channels === 3) {
    for (let p = 0; p < px; p++) out.fill(rgb.data[p], p * 3, p * 3 + 3);
  } else {
    const d = rgb.data;
    for (let p = 0; p < px; p++) {
      out[p] = (d[p * 3] * 19595 + d[p * 3 + 1] * 38470 + d[p * 3 + 2] * 7471 + 0x8000) >> 16;
    }
  }
  return { width: rgb.width, height: rgb.height, channels, data: out };
}

/** 8-bit values to pixel space: 0–255 scaled linearly into [lo, hi] (torchvision's ToTensor for [0, 1]). */
export function toPixels(img: Image8, bounds: readonly [number, number] = [0, 1]): Float32Array {
  const [lo, hi] = bounds;
  return Float32Array.from(img.data, (v) => lo + ((hi - lo) * v) / 255);
}
