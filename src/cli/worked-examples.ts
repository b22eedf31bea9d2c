/**
 * The spec's two worked examples, computed with the library's own norm and
 * clipping primitives (the ones FGSM uses) and written out step by step.
 */
import * as tf from '@tensorflow/tfjs';
import { clipToBounds, createRng, Linf } from '../index.js';

const f = (v: number) => {
  const s = (Math.round(v * 1e6) / 1e6).toString();
  return v >= 0 ? ` ${s}` : s.replace('-', '−');
};
const paren = (v: number) => (v < 0 ? `(${f(v)})` : f(v).trim());
const vec = (v: ArrayLike<number>) => `[${Array.from(v, f).join(', ')} ]`;
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Array.from(a).reduce((s, ai, i) => s + ai * b[i], 0);

const SUB = '₀₁₂₃₄₅₆₇₈₉';
/** "2·δ₁ − 3·δ₂ + 0·δ₃ + 1·δ₄" */
function linear(g: number[]): string {
  return g
    .map((gi, i) => {
      const term = `${Math.abs(gi)}·δ${SUB[i + 1]}`;
      return i === 0 ? (gi < 0 ? `−${term}` : term) : `${gi < 0 ? '−' : '+'} ${term}`;
    })
    .join(' ');
}

/** Worked example 1: a four-pixel FGSM step with a zero-gradient coordinate and clipping. */
export function fourPixelExample(): string[] {
  const x = [0.2, 0.5, 0.7, 0.95];
  const g = [0.3, -1.2, 0, 0.4];
  const eps = 0.1;
  const [s, stepped, adv] = tf.tidy(() => {
    const sign = Linf.steepest(tf.tensor1d(g));
    const raw = tf.add(tf.tensor1d(x), tf.mul(sign, eps));
    return [sign, raw, clipToBounds(raw, [0, 1])].map((t) => t.dataSync());
  });
  const delta = Array.from(adv, (a, i) => a - x[i]);
  const l1 = g.reduce((a, b) => a + Math.abs(b), 0);
  return [
    'Worked example 1: a four-pixel FGSM step (untargeted, L∞, pixels in [0, 1])',
    `  x          = ${vec(x)}`,
    `  g = ∇ₓL    = ${vec(g)}`,
    `  ε          =  ${eps}`,
    `  1. sign(g)       = ${vec(s)}   (sign(0) = 0: the third pixel will not move)`,
    `  2. ε·sign(g)     = ${vec(Array.from(s, (v) => v * eps))}`,
    `  3. x + ε·sign(g) = ${vec(stepped)}`,
    `  4. clip to [0,1] = ${vec(adv)}   (the fourth pixel hit the upper bound: it moved ${f(delta[3]).trim()}, not ${eps})`,
    `  checked answer: x_adv = ${vec(adv)}`,
    `  first-order gain gᵀ(x_adv − x) = ${f(dot(g, delta)).trim()}; without clipping it would be ε‖g‖₁ = ${eps} × ${l1} = ${f(eps * l1).trim()}`,
    '  A zero gradient coordinate never moves under FGSM; many of them in a real network',
    '  point at saturation or non-differentiable preprocessing (gradient masking), not robustness.',
  ];
}

/** Worked example 2: the sign step is the exact maximiser of gᵀδ over the L∞ ball. */
export function dualNormExample(samples = 100_000, seed = 0): string[] {
  const g = [2, -3, 0, 1];
  const eps = 0.05;
  const star = tf.tidy(() => tf.mul(Linf.steepest(tf.tensor1d(g)), eps).dataSync());
  const gain = dot(g, star);
  const l1 = g.reduce((a, b) => a + Math.abs(b), 0);
  const rng = createRng(seed);
  let best = -Infinity;
  let sum = 0;
  let bestVertex = -Infinity;
  let vertexHits = 0;
  const vertices = 1000;
  for (let k = 0; k < samples; k++) {
    const d = Linf.sampleBall(g.length, eps, rng);
    const v = dot(g, d);
    sum += v;
    if (v > best) best = v;
  }
  for (let k = 0; k < vertices; k++) {
    const d = g.map(() => (rng.next() < 0.5 ? -eps : eps));
    const v = dot(g, d);
    if (v > bestVertex) bestVertex = v;
    if (Math.abs(v - gain) < 1e-6) vertexHits++;
  }
  return [
    'Worked example 2: why the sign is optimal under L∞',
    `  maximise gᵀδ subject to ‖δ‖∞ ≤ ε, with g = ${vec(g)}, ε = ${eps}`,
    `  ‖δ‖∞ ≤ ε means −ε ≤ δᵢ ≤ ε for every i, and gᵀδ = ${linear(g)}`,
    '  each term is maximised on its own: δᵢ = +ε if gᵢ > 0, −ε if gᵢ < 0, anything if gᵢ = 0',
    `  δ* = ε·sign(g) = ${vec(star)}`,
    `  gᵀδ* = ${g.map((gi, i) => `${paren(gi)}×${paren(star[i])}`).join(' + ')} = ${f(gain).trim()}`,
    `       = ε‖g‖₁ = ${eps} × ${l1} = ${f(eps * l1).trim()}   (‖·‖₁ is the dual norm of ‖·‖∞)`,
    `  check: ${samples.toLocaleString('en')} uniform random points of the ε-ball (seed ${seed})`,
    `    best gᵀδ = ${f(best).trim()}, mean gᵀδ = ${f(sum / samples).trim()}; none beats ${f(gain).trim()}`,
    `  check: ${vertices} random corners (±ε per pixel): best ${f(bestVertex).trim()}; only the corners that agree with`,
    `    sign(g) on every non-zero gᵢ reach ${f(gain).trim()} (${vertexHits} of ${vertices}, expected 1 in 8)`,
    '  So for the linearised loss the sign step is the exact maximiser, not a heuristic.',
  ];
}
