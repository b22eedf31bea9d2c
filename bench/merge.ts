/**
 * `npm run bench:merge`: what sharding costs, on the shipped MNIST CNN.
 *
 * - Throughput: one shard (`--shard-examples` examples, shard 3 of a
 *   `--shards`-way split of a larger set) against an unsharded run of the
 *   same number of examples, interleaved `--runs` times; examples/s of each
 *   (a shard also hashes the whole data set, which is included).
 * - Merge: `--parts` parts of `--part-examples` examples each (200 × 250 =
 *   50,000 by default, MNIST's training images), written as part files,
 *   then read back, checked and merged (`readParts` + `mergeParts`), and the
 *   report written (report.json, .md, .html). Part 0 is a real shard of that
 *   evaluation; parts 1… are its columns renumbered to their examples
 *   (evaluating 50,000 examples here would take most of an hour), so the
 *   merge does exactly the work it does on real parts.
 *
 *   npm run bench:merge -- --parts 200 --part-examples 250 --json
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setBackend } from '../src/backend/index.js';
import { loadMnist } from '../src/data/index.js';
import {
  type EvaluateOptions,
  type EvaluationPart,
  evaluate,
  evaluateShard,
  mergeParts,
  partFileName,
  type Suite,
  shardRange,
} from '../src/eval/index.js';
import { readParts, writePart } from '../src/eval/parts-node.js';
import { loadClassifierFromFile } from '../src/model/load-node.js';
import { writeReport } from '../src/report/write-node.js';

const { values: args } = parseArgs({
  options: {
    parts: { type: 'string', default: '200' },
    'part-examples': { type: 'string', default: '250' },
    'shard-examples': { type: 'string', default: '100' },
    shards: { type: 'string', default: '8' },
    runs: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});
const partCount = Number(args.parts);
const perPart = Number(args['part-examples']);
const shardExamples = Number(args['shard-examples']);
const shards = Number(args.shards);
const runs = Number(args.runs);

await setBackend('wasm', { threads: Number(args.threads) });
const { model, checksum } = await loadClassifierFromFile('models/mnist-cnn/model.json');
// The CLI's default suite shape (FGSM and PGD at three ε, diagnostics), with a
// short PGD and minimal ε for FGSM only, to keep the bench to minutes here.
const suite: Suite = {
  epsilons: [0.1, 0.2, 0.3],
  attacks: [{ name: 'fgsm' }, { name: 'pgd', options: { steps: 5 } }],
};
const log = (line: string) => {
  if (!args.json) console.log(line);
};

// ---- throughput: one shard against an unsharded run of the same size ----
const batchSize = 50;
const minimalEpsilon = { attacks: ['fgsm' as const] };
const opts: EvaluateOptions = { batchSize, seed: 0, modelChecksum: checksum, minimalEpsilon };
const big = loadMnist('test', { limit: shardExamples * shards });
const shard = { index: 3, count: shards };
const [b0, b1] = shardRange(shard, Math.ceil(big.labels.length / batchSize));
const [e0, e1] = [b0 * batchSize, Math.min(big.labels.length, b1 * batchSize)];
const inShard = e1 - e0;
// The shard's own examples as a data set of their own: the same work per example.
const small = {
  ...big,
  images: big.images.slice(e0 * 784, e1 * 784),
  labels: big.labels.slice(e0, e1),
  source: `${big.source} [${e0}, ${e1})`,
};
const unshardedRate: number[] = [];
const shardRate: number[] = [];
for (let r = 0; r < runs; r++) {
  let t = performance.now();
  await evaluate(model, small, suite, opts);
  unshardedRate.push(inShard / ((performance.now() - t) / 1000));
  t = performance.now();
  await evaluateShard(model, big, suite, { ...opts, shard });
  shardRate.push(inShard / ((performance.now() - t) / 1000));
}
const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
log(
  `throughput (${shardExamples} examples, FGSM + PGD-5 at 3 ε, FGSM's minimal ε, diagnostics; medians of ${runs}, interleaved):`,
);
log(`  unsharded run       ${med(unshardedRate).toFixed(1)} examples/s`);
log(
  `  shard 3 of ${shards}          ${med(shardRate).toFixed(1)} examples/s (${inShard} examples of ${big.labels.length}, data hash included)`,
);
log(`  shard ÷ unsharded   ${(med(shardRate) / med(unshardedRate)).toFixed(3)}`);

// ---- merge: parts of one evaluation over parts × perPart examples ----
const total = partCount * perPart;
const train = loadMnist('train', { limit: total });
if (train.labels.length < total)
  throw new Error(`MNIST train has only ${train.labels.length} examples`);
const partOpts: EvaluateOptions = {
  batchSize: perPart,
  seed: 0,
  modelChecksum: checksum,
  minimalEpsilon,
};
let t = performance.now();
const first = await evaluateShard(model, train, suite, {
  ...partOpts,
  shard: { index: 0, count: partCount },
});
const firstMs = performance.now() - t;
const dir = await mkdtemp(path.join(tmpdir(), 'advkit-bench-merge-'));
try {
  t = performance.now();
  for (let i = 0; i < partCount; i++) {
    await writePart(
      path.join(dir, partFileName({ index: i, count: partCount })),
      renumbered(first, i),
    );
  }
  const writeMs = performance.now() - t;
  t = performance.now();
  const parts = await readParts([dir]);
  const readMs = performance.now() - t;
  t = performance.now();
  const report = await mergeParts(model, suite, parts, partOpts);
  const mergeMs = performance.now() - t;
  t = performance.now();
  await writeReport(path.join(dir, 'report'), report);
  const reportMs = performance.now() - t;
  log(`merge of ${partCount} parts × ${perPart} examples (${total} examples):`);
  log(`  part 0 evaluated    ${(firstMs / 1000).toFixed(1)} s`);
  log(`  ${partCount} part files written ${(writeMs / 1000).toFixed(2)} s`);
  log(`  read and parsed     ${(readMs / 1000).toFixed(2)} s`);
  log(
    `  checked and merged  ${(mergeMs / 1000).toFixed(2)} s (hashes, coverage, columns, report built)`,
  );
  log(`  report written      ${(reportMs / 1000).toFixed(2)} s (report.json, .md, .html)`);
  if (args.json) {
    console.log(
      JSON.stringify({
        throughput: {
          examples: shardExamples,
          unshardedExamplesPerS: med(unshardedRate),
          shardExamplesPerS: med(shardRate),
          ratio: med(shardRate) / med(unshardedRate),
        },
        merge: {
          parts: partCount,
          examplesPerPart: perPart,
          readMs,
          mergeMs,
          reportMs,
          robustAccuracy: report.attacks.map((a) => a.results.map((r) => r.robustAccuracy.value)),
        },
      }),
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
  model.dispose();
}

/** Part 0's columns as part `i`: the same values, renumbered to part i's examples. */
function renumbered(p: EvaluationPart, i: number): EvaluationPart {
  if (i === 0) return p;
  const columns = structuredClone(p.columns);
  const offset = i * perPart;
  columns.clean.index = columns.clean.index.map((v) => v + offset);
  for (const a of columns.attacks) a.images = [];
  return {
    ...p,
    shard: { index: i, count: partCount },
    batches: { first: i, end: i + 1, total: partCount },
    examples: { first: offset, end: offset + perPart, total },
    columns,
  };
}
