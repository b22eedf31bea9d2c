/**
 * The host-side pieces of the Square attack (square.ts): the schedule of the
 * square's size, the starting points and one random-search proposal per
 * example, for L∞ and L2. They work on one example's flat NHWC row
 * (index ((r·w + col)·c + ch)) so the attack can build a whole batch of
 * proposals without a tensor op per example.
 */
import type { Rng } from '../threat-model/rng.js';

export interface ImageGeometry {
  h: number;
  w: number;
  c: number;
  lo: number;
  hi: number;
}

/**
 * Fraction p of the image's pixels the square covers at iteration `it`:
 * pInit halved at 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 of a
 * 10,000-iteration run (Andriushchenko et al. 2020, as in their code and
 * AutoAttack's); with `rescale` the breakpoints stretch to `budget`.
 */
export function squareFraction(
  it: number,
  budget: number,
  pInit: number,
  rescale: boolean,
): number {
  const t = rescale ? Math.trunc((it / budget) * 10000) : it;
  const breaks = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000];
  let halvings = 0;
  while (halvings < breaks.length && t > breaks[halvings]) halvings++;
  return pInit / 2 ** halvings;
}

/** Python's round(): halves go to the even neighbour, as the reference's side lengths do. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const diff = v - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** L∞ square side for fraction p: round(√(p·h·w)), at least 1, at most the image. */
export function linfSide(p: number, g: ImageGeometry): number {
  return Math.min(Math.max(roundHalfEven(Math.sqrt(p * g.h * g.w)), 1), g.h, g.w);
}

/** L2 window side: round(√(p·h·w)), at least 3 and odd (the reference's rule), at most the image. */
export function l2Side(p: number, g: ImageGeometry): number {
  let s = Math.max(roundHalfEven(Math.sqrt(p * g.h * g.w)), 3);
  if (s % 2 === 0) s += 1;
  return Math.min(s, g.h, g.w);
}

const clip = (v: number, g: ImageGeometry) => Math.min(Math.max(v, g.lo), g.hi);

/**
 * L∞ start: every column of every channel moved by +ε or −ε (vertical
 * stripes, the paper's initialisation), then clipped to the bounds.
 */
export function linfStart(
  x: Float32Array,
  out: Float32Array,
  eps: number,
  g: ImageGeometry,
  rng: Rng,
): void {
  const fe = Math.fround(eps);
  const signs = new Float64Array(g.w * g.c);
  for (let i = 0; i < signs.length; i++) signs[i] = rng.next() < 0.5 ? -fe : fe;
  for (let r = 0; r < g.h; r++) {
    const row = r * g.w * g.c;
    for (let j = 0; j < g.w * g.c; j++) out[row + j] = clip(Math.fround(x[row + j] + signs[j]), g);
  }
}

/**
 * L∞ proposal, written into `cand` (a copy of the current best): one s×s
 * square at a uniform position, each channel set to x ± ε there.
 */
export function linfPropose(
  x: Float32Array,
  cand: Float32Array,
  eps: number,
  s: number,
  g: ImageGeometry,
  rng: Rng,
): void {
  const fe = Math.fround(eps);
  const vh = rng.int(g.h - s + 1);
  const vw = rng.int(g.w - s + 1);
  const sign = new Float64Array(g.c);
  for (let ch = 0; ch < g.c; ch++) sign[ch] = rng.next() < 0.5 ? -fe : fe;
  for (let r = vh; r < vh + s; r++) {
    for (let col = vw; col < vw + s; col++) {
      const base = (r * g.w + col) * g.c;
      for (let ch = 0; ch < g.c; ch++)
        cand[base + ch] = clip(Math.fround(x[base + ch] + sign[ch]), g);
    }
  }
}

/**
 * The reference's `eta_rectangles(a, b)`: an a×b block of nested rectangles
 * around its centre, rectangle k (k = 0, 1, …) adding 1/(k+1)², with unit L2 norm.
 */
function nestedRectangles(a: number, b: number): Float64Array {
  const m = new Float64Array(a * b);
  const ca = Math.floor(a / 2);
  const cb = Math.floor(b / 2);
  for (let k = 0; k < Math.max(ca + 1, cb + 1); k++) {
    const r0 = Math.max(ca - k, 0);
    const r1 = Math.min(ca - k + 2 * k + 1, a);
    const c0 = Math.max(cb - k, 0);
    const c1 = Math.min(cb - k + 2 * k + 1, b);
    for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) m[r * b + c] += 1 / (k + 1) ** 2;
  }
  return unit(m);
}

function unit(m: Float64Array): Float64Array {
  let ss = 0;
  for (const v of m) ss += v * v;
  const n = Math.sqrt(ss);
  if (n > 0) for (let i = 0; i < m.length; i++) m[i] /= n;
  return m;
}

const ETA = new Map<number, [Float64Array, Float64Array]>();

/**
 * The paper's L2 window pattern ("meta pseudo-Gaussian"): nested rectangles
 * in the top half, negated ones in the bottom half, unit norm; returned as
 * itself and transposed (the proposal picks one at random).
 */
export function windowPattern(s: number): [Float64Array, Float64Array] {
  let cached = ETA.get(s);
  if (!cached) {
    const top = Math.floor(s / 2);
    const m = new Float64Array(s * s);
    m.set(nestedRectangles(top, s), 0);
    const bottom = nestedRectangles(s - top, s);
    for (let i = 0; i < bottom.length; i++) m[top * s + i] = -bottom[i];
    unit(m);
    const t = new Float64Array(s * s);
    for (let r = 0; r < s; r++) for (let c = 0; c < s; c++) t[c * s + r] = m[r * s + c];
    cached = [m, t];
    ETA.set(s, cached);
  }
  return cached;
}

// One reusable buffer for an example's perturbation: a proposal per example
// per iteration would otherwise allocate n·d doubles every iteration.
let scratch = new Float64Array(0);
function deltaBuffer(d: number): Float64Array {
  if (scratch.length < d) scratch = new Float64Array(d);
  return scratch.subarray(0, d);
}

/** Write x + ε·δ/‖δ‖₂, clipped to the bounds, into `out`. */
function placeOnSphere(
  x: Float32Array,
  delta: Float64Array,
  out: Float32Array,
  eps: number,
  g: ImageGeometry,
): void {
  let ss = 0;
  for (const v of delta) ss += v * v;
  const scale = eps / (Math.sqrt(ss) + 1e-12);
  for (let i = 0; i < delta.length; i++) out[i] = clip(Math.fround(x[i] + delta[i] * scale), g);
}

/**
 * L2 start (as the reference): a grid of ⌊h/5⌋-sided windows, centred in the
 * image, each filled with the window pattern times a random sign per
 * channel; the sum is scaled to norm ε and clipped to the bounds.
 */
export function l2Start(
  x: Float32Array,
  out: Float32Array,
  eps: number,
  g: ImageGeometry,
  rng: Rng,
): void {
  const s = Math.max(Math.floor(g.h / 5), 1);
  const start = Math.max(Math.floor((g.h - 5 * s) / 2), 0);
  const delta = deltaBuffer(x.length).fill(0);
  for (let vh = start; vh + s <= g.h && vh < start + Math.floor(g.h / s) * s; vh += s) {
    for (let vw = start; vw + s <= g.w && vw < start + Math.floor(g.w / s) * s; vw += s) {
      const eta = windowPattern(s)[rng.next() < 0.5 ? 0 : 1];
      for (let ch = 0; ch < g.c; ch++) {
        const sign = rng.next() < 0.5 ? -1 : 1;
        for (let a = 0; a < s; a++) {
          for (let b = 0; b < s; b++)
            delta[((vh + a) * g.w + vw + b) * g.c + ch] += sign * eta[a * s + b];
        }
      }
    }
  }
  placeOnSphere(x, delta, out, eps, g);
}

/**
 * L2 proposal (the paper's update), from the current best `cand` (overwritten
 * with the proposal): pick two s×s windows; in the first, per channel, add the
 * window pattern with a random sign to the old perturbation there (itself
 * scaled to unit norm), and give the result the norm of both windows' old
 * perturbation plus the budget still unused, √(max(ε² − ‖δ‖², 0)/c + ‖δ_W‖²);
 * zero the second window (the norm moves from it to the first), then rescale
 * the whole perturbation to norm ε and clip to the bounds.
 */
export function l2Propose(
  x: Float32Array,
  cand: Float32Array,
  eps: number,
  s: number,
  g: ImageGeometry,
  rng: Rng,
): void {
  const { h, w, c } = g;
  const delta = deltaBuffer(x.length);
  let total = 0;
  for (let i = 0; i < x.length; i++) {
    delta[i] = cand[i] - x[i];
    total += delta[i] * delta[i];
  }
  const vh = rng.int(h - s + 1);
  const vw = rng.int(w - s + 1);
  const vh2 = rng.int(h - s + 1);
  const vw2 = rng.int(w - s + 1);
  const eta = windowPattern(s)[rng.next() < 0.5 ? 0 : 1];
  const signs = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) signs[ch] = rng.next() < 0.5 ? -1 : 1;
  const inWindow = (r: number, col: number, r0: number, c0: number) =>
    r >= r0 && r < r0 + s && col >= c0 && col < c0 + s;
  // ‖δ‖² over the union of the two windows, all channels.
  let union = 0;
  for (let r = Math.min(vh, vh2); r < Math.max(vh, vh2) + s; r++) {
    for (let col = Math.min(vw, vw2); col < Math.max(vw, vw2) + s; col++) {
      if (!inWindow(r, col, vh, vw) && !inWindow(r, col, vh2, vw2)) continue;
      for (let ch = 0; ch < c; ch++) union += delta[(r * w + col) * c + ch] ** 2;
    }
  }
  const target = Math.sqrt(Math.max(eps * eps - total, 0) / c + union);
  const fresh = new Float64Array(s * s * c);
  for (let ch = 0; ch < c; ch++) {
    let old = 0;
    for (let a = 0; a < s; a++) {
      for (let b = 0; b < s; b++) old += delta[((vh + a) * w + vw + b) * c + ch] ** 2;
    }
    const oldNorm = Math.sqrt(old) + 1e-12;
    let ss = 0;
    for (let a = 0; a < s; a++) {
      for (let b = 0; b < s; b++) {
        const v = eta[a * s + b] * signs[ch] + delta[((vh + a) * w + vw + b) * c + ch] / oldNorm;
        fresh[(a * s + b) * c + ch] = v;
        ss += v * v;
      }
    }
    const k = target / (Math.sqrt(ss) + 1e-12);
    for (let i = ch; i < fresh.length; i += c) fresh[i] *= k;
  }
  for (let a = 0; a < s; a++) {
    for (let b = 0; b < s; b++) {
      for (let ch = 0; ch < c; ch++) delta[((vh2 + a) * w + vw2 + b) * c + ch] = 0;
    }
  }
  for (let a = 0; a < s; a++) {
    for (let b = 0; b < s; b++) {
      for (let ch = 0; ch < c; ch++)
        delta[((vh + a) * w + vw + b) * c + ch] = fresh[(a * s + b) * c + ch];
    }
  }
  placeOnSphere(x, delta, cand, eps, g);
}
