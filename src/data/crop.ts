/**
 * torchvision's `Resize` + `CenterCrop` preprocessing as data (browser-safe):
 * `{ resize: 256, crop: 224 }` is `Resize(256)` (shorter side to 256, aspect
 * kept, PIL's antialiased bilinear: see resize.ts) then `CenterCrop(224)`.
 *
 *   const { image } = applyPhotoTransform(decoded, { resize: 256, crop: 224 });
 */
import { InputError } from '../errors.js';
import { checkImage8, type Image8 } from './image.js';
import { resizeBilinear, shorterSideSize } from './resize.js';

/** A size: one number (a square crop; for resize, the shorter side) or [height, width]. */
export type PhotoSize = number | readonly [number, number];

export interface PhotoTransform {
  /** `Resize(n)`: the shorter side to n, aspect kept; `[h, w]`: exactly h × w (stretching). */
  resize?: PhotoSize;
  /** `CenterCrop(n)` or `CenterCrop([h, w])`, zero-padded where the image is smaller (as torchvision pads). */
  crop?: PhotoSize;
}

const isSize = (s: unknown): boolean =>
  (Number.isInteger(s) && (s as number) > 0) ||
  (Array.isArray(s) && s.length === 2 && s.every((d) => Number.isInteger(d) && d > 0));

export function checkPhotoTransform(t: PhotoTransform, where: string): void {
  for (const key of ['resize', 'crop'] as const) {
    if (t[key] !== undefined && !isSize(t[key])) {
      throw new InputError(
        'INVALID_OPTION',
        `${where}: ${key} must be a positive integer or [height, width]; received ${JSON.stringify(t[key])}`,
      );
    }
  }
}

/** Python's round(): halves to even, as torchvision's crop offsets use it. */
const roundHalfEven = (x: number): number => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/**
 * The centre `height` × `width` of `img` (torchvision's `center_crop`: offsets
 * round((H − h) / 2), round((W − w) / 2); a side shorter than the crop is
 * first padded with zeros, ⌊(h − H)/2⌋ before and the rest after).
 */
export function centerCrop(img: Image8, height: number, width: number): Image8 {
  checkImage8(img, 'centerCrop');
  const { width: W, height: H, channels: c, data } = img;
  const padTop = height > H ? Math.floor((height - H) / 2) : 0;
  const padLeft = width > W ? Math.floor((width - W) / 2) : 0;
  const PH = Math.max(H, height);
  const PW = Math.max(W, width);
  const top = roundHalfEven((PH - height) / 2);
  const left = roundHalfEven((PW - width) / 2);
  const out = new Uint8Array(height * width * c);
  for (let y = 0; y < height; y++) {
    const sy = y + top - padTop;
    if (sy < 0 || sy >= H) continue;
    for (let x = 0; x < width; x++) {
      const sx = x + left - padLeft;
      if (sx < 0 || sx >= W) continue;
      for (let k = 0; k < c; k++) out[(y * width + x) * c + k] = data[(sy * W + sx) * c + k];
    }
  }
  return { width, height, channels: c, data: out };
}

const hw = (s: PhotoSize): [number, number] => (typeof s === 'number' ? [s, s] : [s[0], s[1]]);

/** What `t` does, in words, for reports: "Resize(256) …, then CenterCrop(224)". */
export function describePhotoTransform(t: PhotoTransform): string {
  const parts: string[] = [];
  if (t.resize !== undefined) {
    parts.push(
      typeof t.resize === 'number'
        ? `Resize(${t.resize}): shorter side to ${t.resize}, aspect kept`
        : `Resize(${hw(t.resize).join('×')}): stretched to ${hw(t.resize)[1]}×${hw(t.resize)[0]}`,
    );
  }
  if (t.crop !== undefined) {
    const [h, w] = hw(t.crop);
    parts.push(`CenterCrop(${h === w ? h : `${h}×${w}`}) to ${w}×${h}`);
  }
  return `${parts.join(', then ')}${t.resize !== undefined ? " (PIL's antialiased bilinear in 8 bits, as torchvision on a PIL image)" : ''}`;
}

/** The output size [height, width] of `t` on a `width` × `height` image. */
export function photoTransformSize(
  t: PhotoTransform,
  width: number,
  height: number,
): [number, number] {
  if (t.crop !== undefined) return hw(t.crop);
  if (t.resize === undefined) return [height, width];
  if (typeof t.resize !== 'number') return hw(t.resize);
  const s = shorterSideSize(width, height, t.resize);
  return [s.height, s.width];
}

/**
 * `img` through `t`: resize, then centre-crop. `padded` says whether the
 * crop was larger than the (resized) image and zeros were added.
 */
export function applyPhotoTransform(
  img: Image8,
  t: PhotoTransform,
): { image: Image8; padded: boolean } {
  checkPhotoTransform(t, 'applyPhotoTransform');
  let out = img;
  if (t.resize !== undefined) {
    const size =
      typeof t.resize === 'number'
        ? shorterSideSize(img.width, img.height, t.resize)
        : { height: t.resize[0], width: t.resize[1] };
    out = resizeBilinear(out, size.width, size.height);
  }
  let padded = false;
  if (t.crop !== undefined) {
    const [h, w] = hw(t.crop);
    padded = h > out.height || w > out.width;
    out = centerCrop(out, h, w);
  }
  return { image: out, padded };
}
