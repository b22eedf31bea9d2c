/**
 * Robust accuracy against ε for a batch of samples, FGSM and PGD on one
 * chart: each attack runs once over the whole ε list (advkit's ε is always a
 * list). Robust accuracy = examples correct both clean and under attack / all.
 */
import type * as tf from '@tensorflow/tfjs';
import { type Classifier, createAttack, type Goal, type NormName } from 'advkit';

export interface CurveSettings {
  norm: NormName;
  epsilons: number[];
  pgdSteps: number;
  goal: Goal;
  seed: number;
}

export interface Curve {
  epsilons: number[];
  n: number;
  cleanAccuracy: number;
  fgsm: number[];
  pgd: number[];
}

async function robustAccuracy(
  model: Classifier,
  x: tf.Tensor4D,
  labels: number[],
  clean: Int32Array,
  attackName: 'fgsm' | 'pgd',
  s: CurveSettings,
): Promise<number[]> {
  const attack =
    attackName === 'fgsm'
      ? createAttack('fgsm', { norm: s.norm })
      : createAttack('pgd', { norm: s.norm, steps: s.pgdSteps });
  const results = await attack.run(model, { x, labels, goal: s.goal, seed: s.seed }, s.epsilons);
  for (const r of results) r.xAdv.dispose();
  return results.map(
    (r) =>
      r.predicted.filter((p, i) => p === labels[i] && clean[i] === labels[i]).length /
      labels.length,
  );
}

export async function accuracyCurve(
  model: Classifier,
  x: tf.Tensor4D,
  labels: number[],
  s: CurveSettings,
): Promise<Curve> {
  const { labels: clean } = await model.predict(x);
  const cleanAccuracy = labels.filter((l, i) => clean[i] === l).length / labels.length;
  const fgsm = await robustAccuracy(model, x, labels, clean, 'fgsm', s);
  const pgd = await robustAccuracy(model, x, labels, clean, 'pgd', s);
  return { epsilons: s.epsilons, n: labels.length, cleanAccuracy, fgsm, pgd };
}

const SVG = 'http://www.w3.org/2000/svg';

function el(name: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** An inline SVG line chart of the curve. */
export function curveSvg(c: Curve, normLabel: string): SVGSVGElement {
  const W = 520;
  const H = 300;
  const m = { l: 52, r: 110, t: 16, b: 44 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const eMax = Math.max(...c.epsilons) || 1;
  const X = (e: number) => m.l + (e / eMax) * pw;
  const Y = (a: number) => m.t + (1 - a) * ph;
  const svg = el('svg', {
    viewBox: `0 0 ${W} ${H}`,
    width: W,
    height: H,
    role: 'img',
    'aria-label': `robust accuracy against ε (${normLabel}) for FGSM and PGD on ${c.n} samples`,
  }) as SVGSVGElement;
  for (let k = 0; k <= 4; k++) {
    const a = k / 4;
    svg.append(
      el('line', { x1: m.l, x2: m.l + pw, y1: Y(a), y2: Y(a), class: 'grid' }),
      el('text', { x: m.l - 6, y: Y(a) + 4, 'text-anchor': 'end' }, `${100 * a}%`),
    );
  }
  for (const e of c.epsilons) {
    svg.append(
      el('line', { x1: X(e), x2: X(e), y1: m.t + ph, y2: m.t + ph + 4, class: 'axis' }),
      el('text', { x: X(e), y: m.t + ph + 16, 'text-anchor': 'middle' }, String(+e.toPrecision(3))),
    );
  }
  svg.append(
    el('line', { x1: m.l, x2: m.l + pw, y1: m.t + ph, y2: m.t + ph, class: 'axis' }),
    el('line', { x1: m.l, x2: m.l, y1: m.t, y2: m.t + ph, class: 'axis' }),
    el('text', { x: m.l + pw / 2, y: H - 8, 'text-anchor': 'middle' }, `ε (${normLabel})`),
    el(
      'text',
      {
        x: 14,
        y: m.t + ph / 2,
        'text-anchor': 'middle',
        transform: `rotate(-90 14 ${m.t + ph / 2})`,
      },
      'robust accuracy',
    ),
  );
  const series: [string, number[], string][] = [
    ['FGSM', c.fgsm, 'fgsm'],
    ['PGD', c.pgd, 'pgd'],
  ];
  series.forEach(([name, acc, cls], k) => {
    const pts = c.epsilons.map((e, i) => `${X(e)},${Y(acc[i])}`).join(' ');
    svg.append(el('polyline', { points: pts, class: `series ${cls}` }));
    for (let i = 0; i < acc.length; i++) {
      svg.append(el('circle', { cx: X(c.epsilons[i]), cy: Y(acc[i]), r: 3, class: `dot ${cls}` }));
    }
    const ly = m.t + 14 + 20 * k;
    svg.append(
      el('line', {
        x1: W - m.r + 12,
        x2: W - m.r + 34,
        y1: ly - 4,
        y2: ly - 4,
        class: `series ${cls}`,
      }),
      el('text', { x: W - m.r + 40, y: ly }, name),
    );
  });
  svg.append(
    el('text', { x: W - m.r + 12, y: m.t + 64 }, `clean ${(100 * c.cleanAccuracy).toFixed(0)}%`),
    el('text', { x: W - m.r + 12, y: m.t + 82 }, `n = ${c.n}`),
  );
  return svg;
}
