/**
 * The classic FGSM picture (Goodfellow et al., 2015, figure 1), one row per
 * photo: the photo, the perturbation, the adversarial photo, and the model's
 * top-5 classes before and after, as self-contained HTML, Markdown and JSON
 * (browser-safe). Photos are shown at the size the model sees them, one CSS
 * pixel per pixel; small ones are enlarged with `image-rendering: pixelated`
 * so the pixels stay sharp instead of blurring.
 */
import { toRgba } from '../data/rgba.js';
import { num } from './format.js';
import { escapeHtml } from './html.js';
import { encodePngStored, type PngEncoder, pngDataUri } from './png.js';

export interface ClassScore {
  label: number;
  name: string;
  probability: number;
}

export interface PicturePhoto {
  /** The photo's file name. */
  name: string;
  /** The photo's own size before resizing and cropping, "W×H". */
  size?: string;
  /** The label it was attacked against, and its name. */
  label: number;
  /** Pixel-space values [h, w, c] inside the bounds, as the model saw them. */
  original: ArrayLike<number>;
  adversarial: ArrayLike<number>;
  before: ClassScore[];
  after: ClassScore[];
}

export interface FgsmPicture {
  title: string;
  model: string;
  /** What the model is and where it comes from, one sentence. */
  modelNote: string;
  /** How the photos were prepared (resize, crop), one sentence. */
  dataNote: string;
  epsilon: number;
  /** ε as readers know it, e.g. "4/255". */
  epsilonText: string;
  bounds: [number, number];
  /** [h, w, c] of every photo. */
  shape: [number, number, number];
  photos: PicturePhoto[];
}

/** The `k` most probable classes of one probability row, most probable first. */
export function topK(
  probabilities: ArrayLike<number>,
  k: number,
  classNames: readonly string[],
): ClassScore[] {
  const order = Array.from({ length: probabilities.length }, (_, i) => i).sort(
    (a, b) => probabilities[b] - probabilities[a] || a - b,
  );
  return order.slice(0, k).map((label) => ({
    label,
    name: classNames[label] ?? String(label),
    probability: probabilities[label],
  }));
}

/** Below this many pixels a side, photos are shown enlarged (pixelated) to this size. */
const SMALL = 128;

/** One photo's three images as PNG bytes. */
export interface PictureImages {
  original: Uint8Array;
  perturbation: Uint8Array;
  adversarial: Uint8Array;
}

/** The photo, its perturbation (±ε to white/black) and the adversarial photo, encoded by `encode`. */
export function pictureImages(
  p: FgsmPicture,
  photo: PicturePhoto,
  encode: PngEncoder,
): PictureImages {
  const [h, w, c] = p.shape;
  const [lo, hi] = p.bounds;
  const range = hi - lo;
  const delta = Array.from(photo.adversarial, (v, i) => v - photo.original[i]);
  // ±ε maps to white/black, 0 to mid-grey: FGSM's δ is ±ε wherever the bounds allow.
  const shown = (v: number) => 0.5 + v / (2 * p.epsilon);
  const pixel = (v: number) => (v - lo) / range;
  return {
    original: encode(toRgba(photo.original, c, pixel), w, h),
    perturbation: encode(toRgba(delta, c, shown), w, h),
    adversarial: encode(toRgba(photo.adversarial, c, pixel), w, h),
  };
}

const pctText = (v: number) =>
  v < 0.001 ? `${(100 * v).toPrecision(2)} %` : `${(100 * v).toFixed(v >= 0.995 ? 1 : 2)} %`;

const perturbationText = (p: FgsmPicture) =>
  `perturbation δ = adversarial − photo, shown as 0.5 + δ / (2ε): mid-grey is no change, white +ε, black −ε (amplified ×${num((p.bounds[1] - p.bounds[0]) / (2 * p.epsilon), 3)} over the pixel range)`;

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#222;padding:0 1rem}
.row{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start;border-top:1px solid #ddd;padding:1rem 0}
figure{margin:0}figcaption{font-size:12px;color:#555;text-align:center}
img{display:block;border:1px solid #eee}img.small{image-rendering:pixelated}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:.15rem .5rem;text-align:left}
td.p{text-align:right}.lists{display:flex;flex-direction:column;gap:.6rem}.op{font-size:28px;align-self:center;color:#888}tr.hit td{font-weight:600}small{color:#666}`;

function top5Html(list: ClassScore[], label: number, heading: string): string {
  const rows = list
    .map(
      (s) =>
        `<tr${s.label === label ? ' class="hit"' : ''}><td>${escapeHtml(s.name)}</td><td class="p">${pctText(s.probability)}</td></tr>`,
    )
    .join('');
  return `<table><tr><th colspan="2">${escapeHtml(heading)}</th></tr>${rows}</table>`;
}

/**
 * The picture as one self-contained HTML page (PNG data URIs, no external
 * URLs). `images` (per photo, in order) are used as they are, so a caller
 * that also writes the PNG files encodes each image once.
 */
export function fgsmPictureHtml(
  p: FgsmPicture,
  options: { encodePng?: PngEncoder; images?: readonly PictureImages[] } = {},
): string {
  const encode = options.encodePng ?? encodePngStored;
  const [h, w] = p.shape;
  const small = Math.max(h, w) < SMALL;
  const shownW = small ? Math.round((w * SMALL) / Math.max(h, w)) : w;
  const shownH = small ? Math.round((h * SMALL) / Math.max(h, w)) : h;
  const img = (bytes: Uint8Array, alt: string) =>
    `<img${small ? ' class="small"' : ''} width="${shownW}" height="${shownH}" alt="${escapeHtml(alt)}" src="${pngDataUri(bytes)}">`;
  const e = escapeHtml;
  const rows = p.photos.map((photo, i) => {
    const im = options.images?.[i] ?? pictureImages(p, photo, encode);
    const fooled = photo.after[0]?.label !== photo.before[0]?.label;
    return `<div class="row">
<figure>${img(im.original, `${photo.name}`)}<figcaption>${e(photo.name)}${photo.size ? ` <small>(${e(photo.size)} → ${w}×${h})</small>` : ''}</figcaption></figure>
<span class="op">+</span>
<figure>${img(im.perturbation, `perturbation of ${photo.name}`)}<figcaption>δ, ‖δ‖∞ ≤ ${e(p.epsilonText)}</figcaption></figure>
<span class="op">=</span>
<figure>${img(im.adversarial, `adversarial ${photo.name}`)}<figcaption>adversarial${fooled ? ' — prediction changed' : ' — prediction kept'}</figcaption></figure>
<div class="lists">${top5Html(photo.before, photo.label, 'before: top 5')}${top5Html(photo.after, photo.label, 'after FGSM: top 5')}</div>
</div>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${e(p.title)}</title><style>${CSS}</style></head>
<body>
<h1>${e(p.title)}</h1>
<p>${e(p.modelNote)}</p>
<p>${e(p.dataNote)} Untargeted FGSM, L∞, ε = ${e(p.epsilonText)} (${num(p.epsilon)} in pixel units of [${p.bounds.join(', ')}]), clipped to the bounds. The label each photo is attacked against is in bold in its lists.</p>
<p><small>${e(perturbationText(p))}. Photos are shown at the model's input size, ${w}×${h}, one screen pixel per pixel${small ? `, enlarged to ${shownW}×${shownH} without smoothing` : ''}.</small></p>
${rows.join('\n')}
</body></html>
`;
}

/** The picture's numbers as Markdown: per photo, the two top-5 lists side by side. */
export function fgsmPictureMarkdown(
  p: FgsmPicture,
  imageFiles?: (photo: string) => string[],
): string {
  const out = [
    `# ${p.title}`,
    '',
    p.modelNote,
    '',
    `${p.dataNote} Untargeted FGSM, L∞, ε = ${p.epsilonText} (${num(p.epsilon)} in pixel units of [${p.bounds.join(', ')}]).`,
    '',
  ];
  for (const photo of p.photos) {
    out.push(`## ${photo.name}${photo.size ? ` (${photo.size})` : ''}`, '');
    const files = imageFiles?.(photo.name);
    if (files) out.push(files.map((f) => `![${f}](${f})`).join(' '), '');
    out.push('| rank | before | | after FGSM | |', '| ---: | --- | ---: | --- | ---: |');
    const n = Math.max(photo.before.length, photo.after.length);
    for (let i = 0; i < n; i++) {
      const b = photo.before[i];
      const a = photo.after[i];
      const cell = (s: ClassScore | undefined) =>
        s
          ? `${s.label === photo.label ? `**${s.name}**` : s.name} | ${pctText(s.probability)}`
          : ' | ';
      out.push(`| ${i + 1} | ${cell(b)} | ${cell(a)} |`);
    }
    out.push('');
  }
  out.push(`_${perturbationText(p)}._`, '');
  return out.join('\n');
}

/** The picture's numbers as JSON (no pixels: those are in the HTML and PNG files). */
export function fgsmPictureJson(p: FgsmPicture): string {
  const { photos, ...rest } = p;
  return `${JSON.stringify(
    {
      ...rest,
      photos: photos.map(({ original: _o, adversarial: _a, ...keep }) => keep),
    },
    null,
    2,
  )}\n`;
}
