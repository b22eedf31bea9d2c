/**
 * One photo file through the torchvision-style preprocessing of an image
 * folder (Node): decode at its size, to the model's channels, resize, crop.
 */
import { LoadError } from '../errors.js';
import { applyPhotoTransform, type PhotoTransform, photoTransformSize } from './crop.js';
import { decodePhotoFile } from './decode-node.js';
import { dropAlpha, toChannels } from './image.js';

export interface PhotoSeen {
  /** The photos' own sizes, "W×H". */
  sizes: Set<string>;
  /** Each photo's [width, height], in order. */
  each: [number, number][];
  /** Photos smaller than the crop (zero-padded). */
  padded: number;
  other: Set<string>;
}

/** The photo's 8-bit pixels [h, w, c] for `shape`, recording what was converted in `seen`. */
export async function photoPixels(
  file: string,
  o: PhotoTransform & {
    shape: readonly [number, number, number];
    orientation?: 'apply' | 'ignore';
  },
  seen: PhotoSeen,
): Promise<Uint8Array> {
  const [h, w, c] = o.shape;
  const decoded = await decodePhotoFile(file, { orientation: o.orientation });
  const img = decoded.image;
  const [th, tw] = photoTransformSize(o, img.width, img.height);
  if (th !== h || tw !== w) {
    throw new LoadError(
      'DATA_LOAD',
      `image ${file} (${img.width}×${img.height}) becomes ${tw}×${th} after ${describeFlags(o)}, but the model takes ${w}×${h}; ${o.crop === undefined ? `add a crop (--crop ${h === w ? h : `${h}x${w}`})` : `crop to the model's size (--crop ${h === w ? h : `${h}x${w}`})`}`,
    );
  }
  seen.sizes.add(`${img.width}×${img.height}`);
  seen.each.push([img.width, img.height]);
  for (const note of decoded.conversions) seen.other.add(note);
  const opaque = dropAlpha(img);
  if (opaque.flattened) seen.other.add('alpha flattened onto black');
  // Only a grey PNG decodes to one channel (jpeg-js hands back RGB, sharp RGBA).
  if (c === 3 && img.channels === 1) seen.other.add('grey PNG → RGB');
  if (c === 1 && img.channels !== 1)
    seen.other.add('converted RGB → grayscale (PIL\'s convert("L"))');
  const { image, padded } = applyPhotoTransform(toChannels(opaque.image, c as 1 | 3), o);
  if (padded) seen.padded++;
  return image.data;
}

const describeFlags = (t: PhotoTransform): string =>
  [
    t.resize !== undefined ? `resize ${[t.resize].flat().join('x')}` : '',
    t.crop !== undefined ? `crop ${[t.crop].flat().join('x')}` : '',
  ]
    .filter(Boolean)
    .join(' and ');
