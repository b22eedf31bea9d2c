/**
 * Inputs in unit scale ([0, 1], white digit on black like MNIST): the shipped
 * MNIST samples, a digit drawn on a canvas, or a photo (a committed one or an
 * uploaded JPEG/PNG) resized and centre-cropped to the model's input with the
 * library's own code, torchvision's Resize + CenterCrop (the CLI's --resize /
 * --crop). Mapping to the model's bounds happens later, so the same input
 * works for [0, 1] and [0, 255] models.
 */
import {
  applyPhotoTransform,
  decodeJpeg,
  describePhotoTransform,
  type Image8,
  isJpeg,
  type PhotoTransform,
  toChannels,
} from 'advkit';
import type { SampleSet } from '../mnist-samples.js';

export interface UnitImage {
  /** Row-major h·w·c values in [0, 1]. */
  data: Float32Array;
  shape: [number, number, number];
}

export interface Samples {
  source: string;
  count: number;
  labels: number[];
  image(i: number): UnitImage;
}

export async function loadSamples(): Promise<Samples> {
  const res = await fetch(new URL('advkit-assets/mnist-samples.json', document.baseURI));
  if (!res.ok) throw new Error(`could not fetch the MNIST samples (HTTP ${res.status})`);
  const s = (await res.json()) as SampleSet;
  const bytes = Uint8Array.from(atob(s.pixels), (ch) => ch.charCodeAt(0));
  const size = s.height * s.width * s.channels;
  return {
    source: s.source,
    count: s.count,
    labels: s.labels,
    image(i) {
      const data = new Float32Array(size);
      for (let k = 0; k < size; k++) data[k] = bytes[i * size + k] / 255;
      return { data, shape: [s.height, s.width, s.channels] };
    },
  };
}

/** Read a canvas region as unit-scale values with `channels` channels. */
function canvasToUnit(
  ctx: CanvasRenderingContext2D,
  channels: number,
  invert: boolean,
): Float32Array {
  const { width: w, height: h } = ctx.canvas;
  const rgba = ctx.getImageData(0, 0, w, h).data;
  const out = new Float32Array(w * h * channels);
  for (let p = 0; p < w * h; p++) {
    const r = rgba[4 * p] / 255;
    const g = rgba[4 * p + 1] / 255;
    const b = rgba[4 * p + 2] / 255;
    if (channels === 1) {
      const y = 0.299 * r + 0.587 * g + 0.114 * b;
      out[p] = invert ? 1 - y : y;
    } else {
      const rgb = [r, g, b];
      for (let c = 0; c < channels; c++)
        out[p * channels + c] = invert ? 1 - rgb[c % 3] : rgb[c % 3];
    }
  }
  return out;
}

/**
 * A drawing pad: white strokes on black. `read` fits the strokes' bounding
 * box into 20×20 and centres it by mass in 28×28, as MNIST was prepared.
 */
export class DrawingPad {
  private readonly ctx: CanvasRenderingContext2D;
  private drawing = false;
  private last: [number, number] | undefined;
  inked = false;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    onStroke: () => void,
  ) {
    this.ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    this.clear();
    const pos = (e: PointerEvent): [number, number] => {
      const r = canvas.getBoundingClientRect();
      return [
        ((e.clientX - r.left) * canvas.width) / r.width,
        ((e.clientY - r.top) * canvas.height) / r.height,
      ];
    };
    canvas.addEventListener('pointerdown', (e) => {
      this.drawing = true;
      canvas.setPointerCapture(e.pointerId);
      this.last = pos(e);
      this.dot(...this.last);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.drawing) return;
      const p = pos(e);
      this.line(this.last ?? p, p);
      this.last = p;
    });
    const end = () => {
      if (!this.drawing) return;
      this.drawing = false;
      onStroke();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  clear(): void {
    this.ctx.fillStyle = '#000';
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.inked = false;
  }

  private dot(x: number, y: number): void {
    this.ctx.fillStyle = '#fff';
    this.ctx.beginPath();
    this.ctx.arc(x, y, 11, 0, 2 * Math.PI);
    this.ctx.fill();
    this.inked = true;
  }

  private line(a: [number, number], b: [number, number]): void {
    this.ctx.strokeStyle = '#fff';
    this.ctx.lineWidth = 22;
    this.ctx.lineCap = 'round';
    this.ctx.beginPath();
    this.ctx.moveTo(...a);
    this.ctx.lineTo(...b);
    this.ctx.stroke();
    this.inked = true;
  }

  read(shape: [number, number, number]): UnitImage {
    const [h, w, c] = shape;
    const src = this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height).data;
    let x0 = this.canvas.width;
    let y0 = this.canvas.height;
    let x1 = -1;
    let y1 = -1;
    for (let y = 0; y < this.canvas.height; y++) {
      for (let x = 0; x < this.canvas.width; x++) {
        if (src[4 * (y * this.canvas.width + x)] > 0) {
          x0 = Math.min(x0, x);
          x1 = Math.max(x1, x);
          y0 = Math.min(y0, y);
          y1 = Math.max(y1, y);
        }
      }
    }
    const out = document.createElement('canvas');
    out.width = w;
    out.height = h;
    const octx = out.getContext('2d', { willReadFrequently: true })!;
    octx.fillStyle = '#000';
    octx.fillRect(0, 0, w, h);
    if (x1 >= 0) {
      const bw = x1 - x0 + 1;
      const bh = y1 - y0 + 1;
      const box = (20 / 28) * Math.min(w, h);
      const k = box / Math.max(bw, bh);
      const dw = bw * k;
      const dh = bh * k;
      octx.imageSmoothingQuality = 'high';
      octx.drawImage(this.canvas, x0, y0, bw, bh, (w - dw) / 2, (h - dh) / 2, dw, dh);
      // Shift so the centre of mass sits in the middle, as in MNIST.
      const g = canvasToUnit(octx, 1, false);
      let m = 0;
      let mx = 0;
      let my = 0;
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          m += g[y * w + x];
          mx += x * g[y * w + x];
          my += y * g[y * w + x];
        }
      if (m > 0) {
        const sx = Math.round((w - 1) / 2 - mx / m);
        const sy = Math.round((h - 1) / 2 - my / m);
        const copy = octx.getImageData(0, 0, w, h);
        octx.fillRect(0, 0, w, h);
        octx.putImageData(copy, sx, sy);
      }
    }
    return { data: canvasToUnit(octx, c, false), shape: [h, w, c] };
  }
}

/** A photo decoded at its own size, before it is fitted to a model. */
export interface Photo {
  name: string;
  image: Image8;
  /** Who decoded it and what that converted, for the caption. */
  decoder: string;
}

export interface ShippedPhoto {
  name: string;
  url: string;
}

export async function listShippedPhotos(): Promise<ShippedPhoto[]> {
  const res = await fetch(new URL('advkit-assets/photos.json', document.baseURI));
  if (!res.ok) return [];
  return (await res.json()) as ShippedPhoto[];
}

/**
 * JPEGs are decoded by the library (jpeg-js: the pixels the CLI gets, EXIF
 * orientation applied); other formats by the browser.
 */
export async function decodePhoto(bytes: Uint8Array, name: string): Promise<Photo> {
  if (isJpeg(bytes)) {
    const d = decodeJpeg(bytes, name);
    return {
      name,
      image: d.image,
      decoder: ['jpeg-js', ...d.conversions].join('; '),
    };
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes.slice().buffer]));
  } catch {
    throw new Error(`${name} is not an image the browser can decode (try PNG or JPEG)`);
  }
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  return {
    name,
    image: { width: canvas.width, height: canvas.height, channels: 4, data: new Uint8Array(rgba) },
    decoder: 'the browser',
  };
}

export async function fetchPhoto(p: ShippedPhoto): Promise<Photo> {
  const res = await fetch(new URL(p.url, document.baseURI));
  if (!res.ok) throw new Error(`could not fetch the photo ${p.name} (HTTP ${res.status})`);
  return decodePhoto(new Uint8Array(await res.arrayBuffer()), p.name);
}

/**
 * How a photo is fitted to an h × w input: `imagenet` is Resize(⌊8s/7⌉) then
 * CenterCrop (256 → 224, ImageNet's evaluation); `crop` is Resize(s) then
 * CenterCrop (the whole shorter side kept); `stretch` is Resize((h, w)).
 */
export type PhotoFit = 'imagenet' | 'crop' | 'stretch';

export function photoTransform(fit: PhotoFit, [h, w]: readonly number[]): PhotoTransform {
  const s = Math.min(h, w);
  if (fit === 'stretch') return { resize: [h, w] };
  return { resize: fit === 'imagenet' ? Math.round((8 * s) / 7) : s, crop: [h, w] };
}

/** The photo fitted to `shape` through the library's resize and crop, as unit-scale values. */
export function fitPhoto(
  photo: Photo,
  shape: [number, number, number],
  fit: PhotoFit,
  invert: boolean | 'auto',
): { image: UnitImage; inverted: boolean; caption: string } {
  const [h, w, c] = shape;
  const t = photoTransform(fit, shape);
  const { image } = applyPhotoTransform(toChannels(photo.image, c === 1 ? 1 : 3), t);
  const data = Float32Array.from(image.data, (v) => v / 255);
  let inv = invert === true;
  if (invert === 'auto' && c === 1) {
    // MNIST digits are light on dark: invert photos of dark ink on paper.
    inv = data.reduce((a, v) => a + v, 0) / data.length > 0.5;
  }
  if (inv) for (let i = 0; i < data.length; i++) data[i] = 1 - data[i];
  return {
    image: { data, shape: [h, w, c] },
    inverted: inv,
    caption: `${photo.name}, ${photo.image.width}×${photo.image.height} (decoded by ${photo.decoder}) → ${describePhotoTransform(t)}${inv ? ', inverted' : ''}`,
  };
}
