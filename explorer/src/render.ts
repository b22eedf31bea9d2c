/** Drawing tensors into canvases and numbers into tables. */
import * as tf from '@tensorflow/tfjs';
import type { Analysis, Ranked } from './analysis.js';

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`explorer page has no #${id}`);
  return el as T;
};

export function fmt(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(digits - 1);
  return v.toFixed(digits);
}

/** Images smaller than this many CSS pixels a side are shown enlarged to it, pixelated. */
export const SMALL_IMAGE = 140;

/**
 * Paint one image [1, h, w, c] whose values map linearly from [lo, hi] to
 * 0–255 into a canvas at its native size. A photo is shown one CSS pixel per
 * pixel (its real size, no resampling blur); a small input (MNIST's 28×28)
 * is enlarged to SMALL_IMAGE with nearest-neighbour pixels.
 */
export async function paint(
  canvas: HTMLCanvasElement,
  img: tf.Tensor4D,
  lo: number,
  hi: number,
): Promise<void> {
  const [, h, w, c] = img.shape;
  const bytes = tf.tidy(() =>
    tf.clipByValue(tf.mul(tf.div(tf.sub(img, lo), hi - lo), 255), 0, 255).round(),
  );
  const data = await bytes.data();
  bytes.dispose();
  canvas.width = w;
  canvas.height = h;
  const zoom = Math.max(w, h) < SMALL_IMAGE ? SMALL_IMAGE / Math.max(w, h) : 1;
  canvas.style.width = `${Math.round(w * zoom)}px`;
  canvas.style.height = `${Math.round(h * zoom)}px`;
  canvas.dataset.zoom = String(zoom);
  const ctx = canvas.getContext('2d')!;
  const out = ctx.createImageData(w, h);
  for (let p = 0; p < w * h; p++) {
    const r = data[p * c];
    const g = c >= 3 ? data[p * c + 1] : r;
    const b = c >= 3 ? data[p * c + 2] : r;
    out.data.set([r, g, b, 255], 4 * p);
  }
  ctx.putImageData(out, 0, 0);
}

export function predictionTable(table: HTMLTableElement, ranked: Ranked[], mark?: number): void {
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const t of ['class', 'probability', '']) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = t;
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const r of ranked) {
    const row = body.insertRow();
    if (r.cls === mark) row.className = 'marked';
    row.insertCell().textContent = String(r.cls);
    row.insertCell().textContent = `${(100 * r.p).toFixed(2)} %`;
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = `${Math.max(1, 100 * r.p)}%`;
    row.insertCell().appendChild(bar);
  }
}

export function numberTable(table: HTMLTableElement, rows: [string, string, string?][]): void {
  table.replaceChildren();
  const body = table.createTBody();
  for (const [name, value, note] of rows) {
    const row = body.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = name;
    row.appendChild(th);
    row.insertCell().textContent = value;
    row.insertCell().textContent = note ?? '';
  }
}

const DUAL_NAME = { linf: '‖g‖₁', l2: '‖g‖₂', l1: '‖g‖∞' } as const;

export function linearRows(a: Analysis, norm: 'linf' | 'l2' | 'l1'): [string, string, string?][] {
  const targetedSign = a.target === undefined ? '+' : '−';
  const what = a.target === undefined ? `label ${a.lossClass}` : `target ${a.lossClass}`;
  return [
    [`loss before: L(x, ${a.lossClass})`, fmt(a.lossBefore), `cross-entropy of the ${what}`],
    [`dual norm ${DUAL_NAME[norm]}`, fmt(a.gradDual), 'of g = ∇ₓL at the clean input'],
    [
      `first-order prediction L ${targetedSign} ε${DUAL_NAME[norm]}`,
      fmt(a.firstOrder),
      'best linear change over the whole ε-ball',
    ],
    [
      'linear prediction L + gᵀδ',
      fmt(a.linearActual),
      'with the δ actually applied (after clipping)',
    ],
    ['loss after: L(x + δ)', fmt(a.lossAfter), 'what the network really does'],
    [
      'zero gradient coordinates',
      `${(100 * a.zeroGrad).toFixed(1)} %`,
      a.zeroGrad > 0.5 ? 'many: a gradient-masking warning sign' : '',
    ],
  ];
}

/** Paint δ amplified around mid-grey; returns the amplification factor. */
export async function paintPerturbation(
  canvas: HTMLCanvasElement,
  delta: tf.Tensor4D,
  range: number,
): Promise<{ maxAbs: number; gain: number }> {
  const m = tf.tidy(() => tf.max(tf.abs(delta)));
  const maxAbs = (await m.data())[0];
  m.dispose();
  const scale = maxAbs > 0 ? maxAbs : 1;
  // −max|δ| → black, 0 → mid-grey, +max|δ| → white.
  const shown = tf.tidy(() => tf.div(tf.add(delta, scale), 2 * scale) as tf.Tensor4D);
  await paint(canvas, shown, 0, 1);
  shown.dispose();
  return { maxAbs, gain: maxAbs > 0 ? (0.5 * range) / maxAbs : 0 };
}
