/**
 * `npm run bench:autoattack`: what the AutoAttack suite costs on
 * models/mnist-robust (MNIST test, L∞ ε = 0.3): seconds per stage and in
 * all, examples/s of each stage over the examples it attacked (Square's on
 * the examples the gradient attacks left robust, with its queries/s), and
 * the same run's PGD-50 × 10 (step 0.01) on the same images as the
 * yardstick.
 *
 *   npm run bench:autoattack                       # first 100 test images, the full suite
 *   npm run bench:autoattack -- --n 200 --version autoattack-fast --json
 */
import { parseArgs } from 'node:util';
import { stageTimer } from '../scripts/stage-timer.js';
import { loadMnist } from '../src/data/index.js';
import { evaluate } from '../src/eval/index.js';
import { AUTOATTACK_VERSIONS, type AutoAttackVersion } from '../src/eval/types.js';
import { setBackend } from '../src/index.js';
import { loadClassifierFromFile } from '../src/model/load-node.js';

const { values: args } = parseArgs({
  options: {
    n: { type: 'string', default: '100' },
    version: { type: 'string', default: 'autoattack' },
    threads: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});

async function run(): Promise<void> {
  const version = args.version as AutoAttackVersion;
  if (!AUTOATTACK_VERSIONS.includes(version)) {
    throw new Error(`--version must be one of ${AUTOATTACK_VERSIONS.join(', ')}`);
  }
  await setBackend('wasm', { threads: Number(args.threads) });
  const { model, checksum } = await loadClassifierFromFile('models/mnist-robust/model.json');
  const data = loadMnist('test', { limit: Number(args.n) });
  const n = data.labels.length;
  const options = { batchSize: 100, modelChecksum: checksum, minimalEpsilon: false as const };
  const timer = stageTimer();
  let t0 = performance.now();
  const aa = await evaluate(
    model,
    data,
    { attacks: version, epsilons: [0.3] },
    { ...options, diagnostics: false, onProgress: timer.onProgress },
  );
  const suiteSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const pgd = await evaluate(
    model,
    data,
    {
      attacks: [{ name: 'pgd', options: { steps: 50, stepSize: 0.01, restarts: 10 } }],
      epsilons: [0.3],
    },
    { ...options, diagnostics: false },
  );
  const pgdSeconds = (performance.now() - t0) / 1000;
  model.dispose();
  const stages = (aa.cascade?.perEpsilon[0].stages ?? []).map((s) => {
    const seconds = timer.seconds.get(s.attack) ?? 0;
    return {
      attack: s.attack,
      attacked: s.attacked,
      broken: s.broken,
      robustAccuracy: s.robustAccuracy.value,
      seconds,
      examplesPerSecond: seconds > 0 ? s.attacked / seconds : null,
      ...(s.queries !== undefined
        ? { queries: s.queries, queriesPerSecond: seconds > 0 ? s.queries / seconds : null }
        : {}),
    };
  });
  const result = {
    model: 'models/mnist-robust',
    examples: n,
    version,
    backend: aa.backend,
    threads: Number(args.threads),
    suiteSeconds,
    robustAccuracy: aa.cascade?.perEpsilon[0].robustAccuracy.value ?? null,
    stages,
    pgd50x10: {
      seconds: pgdSeconds,
      examplesPerSecond: n / pgdSeconds,
      robustAccuracy: pgd.attacks[0].results[0].robustAccuracy.value,
    },
  };
  if (args.json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const f = (v: number | null, d = 1) => (v === null ? 'n/a' : v.toFixed(d));
  console.log(
    `${version} on models/mnist-robust, first ${n} MNIST test images, L∞ ε = 0.3, wasm ${result.threads} threads\n`,
  );
  console.log('stage      attacked  broken  robust after  seconds  examples/s  queries/s');
  for (const s of stages) {
    console.log(
      `${s.attack.padEnd(11)}${String(s.attacked).padStart(8)}${String(s.broken).padStart(8)}${`${f(100 * (s.robustAccuracy ?? Number.NaN))} %`.padStart(14)}${f(s.seconds).padStart(9)}${f(s.examplesPerSecond, 2).padStart(12)}${('queriesPerSecond' in s ? f(s.queriesPerSecond ?? null, 0) : '').padStart(11)}`,
    );
  }
  console.log(
    `suite: ${f(suiteSeconds)} s (${f(n / suiteSeconds, 2)} examples/s), robust accuracy ${f(100 * (result.robustAccuracy ?? Number.NaN))} %`,
  );
  console.log(
    `PGD-50 × 10 on the same images: ${f(pgdSeconds)} s (${f(result.pgd50x10.examplesPerSecond, 2)} examples/s), robust accuracy ${f(100 * (result.pgd50x10.robustAccuracy ?? Number.NaN))} %`,
  );
}

// Exit explicitly: the wasm backend's uncaughtException handler would dump its source.
run().then(
  () => process.exit(0),
  (e) => {
    console.error(`error: ${(e as Error).message}`);
    process.exit(2);
  },
);
