/**
 * `npm run bench:fab`: FAB-T on `models/mnist-robust` — its examples/s, with
 * the same run's PGD-10 on the same images as the yardstick, its robust
 * accuracy and the distribution of the perturbation norms it found. Given
 * the per-example JSON of the authors' code on the same images
 * (`scripts/reference/run_autoattack.py --mode individual`, L∞), it also
 * prints both side by side: robust accuracy, which examples each broke, and
 * the ratio of the norms found on the examples both broke.
 *
 *   npm run bench:fab                                   # first 100 test images, L∞, ε = 0.3
 *   npm run bench:fab -- --n 200 --reference /tmp/advkit-reference/autoattack-reference-N200.json
 *   npm run bench:fab -- --norm l2 --eps 2 --json
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '../src/data/index.js';
import { FABT, PGD, setBackend } from '../src/index.js';
import { loadClassifierFromFile } from '../src/model/load-node.js';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '100' },
    eps: { type: 'string', default: '0.3' },
    norm: { type: 'string', default: 'linf' },
    batch: { type: 'string', default: '100' },
    model: { type: 'string', default: 'models/mnist-robust/model.json' },
    reference: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

/** min, 10th percentile, median, 90th percentile, max. */
function spread(v: number[]): string {
  if (v.length === 0) return '—';
  const s = [...v].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))].toFixed(4);
  return `min ${at(0)}, p10 ${at(0.1)}, median ${at(0.5)}, p90 ${at(0.9)}, max ${at(1)}`;
}

interface Reference {
  examples: number;
  epsilon: number;
  clean_correct: boolean[];
  individual: Record<string, { broken: boolean[]; linf_distance: number[]; seconds: number }>;
}

async function main(): Promise<void> {
  await setBackend('wasm');
  const n = Number(args.n);
  const eps = Number(args.eps);
  const norm = args.norm as 'linf' | 'l2';
  const batch = Number(args.batch);
  const { model } = await loadClassifierFromFile(args.model);
  const data = loadMnist('test', { limit: n });
  const x = tf.tensor4d(data.images, [n, ...data.shape]);
  const labels = Array.from(data.labels);
  tf.dispose(tf.tidy(() => model.logits(x)));
  const clean = Array.from((await model.predict(x)).labels, (p, i) => p === labels[i]);

  // Both attacks in batches of `batch`, as an evaluation would run them.
  const timed = async (run: (xb: tf.Tensor4D, lb: number[], ids: number[]) => Promise<void>) => {
    const t0 = performance.now();
    for (let s = 0; s < n; s += batch) {
      const m = Math.min(batch, n - s);
      const xb = tf.slice(x, [s, 0, 0, 0], [m, -1, -1, -1]);
      await run(
        xb,
        labels.slice(s, s + m),
        Array.from({ length: m }, (_, i) => s + i),
      );
      xb.dispose();
    }
    return (performance.now() - t0) / 1000;
  };
  let pgdBroken = 0;
  const pgdSeconds = await timed(async (xb, lb, ids) => {
    const [r] = await new PGD({ norm, steps: 10 }).run(model, { x: xb, labels: lb, indices: ids }, [
      eps,
    ]);
    pgdBroken += r.success.filter((ok, i) => ok && clean[ids[i]]).length;
    r.xAdv.dispose();
  });
  const broken: boolean[] = [];
  const distance: number[] = [];
  const fab = new FABT({ norm });
  const fabSeconds = await timed(async (xb, lb, ids) => {
    const [r] = await fab.run(model, { x: xb, labels: lb, indices: ids }, [eps]);
    for (const [i, id] of ids.entries()) {
      broken.push(clean[id] && r.success[i]);
      distance.push(r.distance[i]);
    }
    r.xAdv.dispose();
  });
  x.dispose();
  const cleanCount = clean.filter(Boolean).length;
  const robust = clean.filter((c, i) => c && !broken[i]).length;
  const norms = distance.filter((_, i) => broken[i]);
  const summary: Record<string, unknown> = {
    model: args.model,
    examples: n,
    norm,
    epsilon: eps,
    cleanAccuracy: cleanCount / n,
    fabT: {
      robustAccuracy: robust / n,
      seconds: fabSeconds,
      examplesPerSecond: n / fabSeconds,
      norms,
    },
    pgd10: { robustAccuracy: (cleanCount - pgdBroken) / n, seconds: pgdSeconds },
  };
  const lines = [
    `mnist-robust, first ${n} MNIST test images, ${norm} ε = ${eps}, batches of ${batch}; clean ${cleanCount}/${n}`,
    `FAB-T  : robust ${robust}/${n} (${((100 * robust) / n).toFixed(1)} %), ${fabSeconds.toFixed(1)} s, ${(n / fabSeconds).toFixed(2)} examples/s`,
    `         norms of its ${norms.length} successes: ${spread(norms)}`,
    `PGD-10 : robust ${cleanCount - pgdBroken}/${n}, ${pgdSeconds.toFixed(1)} s, ${(n / pgdSeconds).toFixed(2)} examples/s (FAB-T ÷ PGD-10 time ${(fabSeconds / pgdSeconds).toFixed(1)})`,
  ];
  if (args.reference) {
    const ref = JSON.parse(readFileSync(args.reference, 'utf8')) as Reference;
    const theirs = ref.individual?.['fab-t'];
    if (!theirs || ref.examples < n || ref.epsilon !== eps || norm !== 'linf') {
      throw new Error(
        `${args.reference}: needs the reference's individual fab-t run (L∞) at ε ${eps} on at least ${n} examples`,
      );
    }
    const refRobust = ref.clean_correct.slice(0, n).filter((c, i) => c && !theirs.broken[i]).length;
    const ratios: number[] = [];
    for (let i = 0; i < n; i++)
      if (broken[i] && theirs.broken[i]) ratios.push(distance[i] / theirs.linf_distance[i]);
    const onlyOurs = broken.filter((b, i) => b && !theirs.broken[i]).length;
    const onlyTheirs = broken.filter((b, i) => !b && theirs.broken[i]).length;
    lines.push(
      `reference FAB-T (fra31/auto-attack): robust ${refRobust}/${n}; broken by both ${ratios.length}, only advkit ${onlyOurs}, only the reference ${onlyTheirs}`,
      `         advkit ÷ reference norm where both broke: ${spread(ratios)}`,
    );
    summary.reference = {
      robustAccuracy: refRobust / n,
      onlyAdvkit: onlyOurs,
      onlyReference: onlyTheirs,
      normRatio: ratios,
    };
  }
  console.log(args.json ? JSON.stringify(summary) : lines.join('\n'));
}

await main();
