/**
 * Issue 12's target: the AutoAttack suite (APGD-CE, APGD-T, FAB-T, Square,
 * each on the examples still robust) on the first MNIST test images of
 * models/mnist-robust at L∞ ε = 0.3, robust accuracy after each stage beside
 * PGD-50 × 10 (step 0.01) on the same images and the figures on record
 * (README: PGD-50 × 10 85.4 % on the first 1,000; Wong et al.: PGD 88.77 %,
 * AutoAttack 82.93 % for this training method; the reference AutoAttack on
 * the first 100: 80 %).
 *
 * Run: npm run repro:autoattack [-- --limit 1000] [--no-pgd] [--out DIR] [--version autoattack-fast] [--workers 2]
 * (with --workers, stage seconds are summed over the workers' phases as they start)
 */
import { parseArgs } from 'node:util';
import { loadMnist } from '../src/data/index.js';
import { evaluate } from '../src/eval/index.js';
import { AUTOATTACK_VERSIONS, type AutoAttackVersion } from '../src/eval/types.js';
import { workerThreads } from '../src/eval/workers-node.js';
import { setBackend } from '../src/index.js';
import { loadClassifierFromFile } from '../src/model/load-node.js';
import { writeReport } from '../src/report/write-node.js';
import { stageTimer } from './stage-timer.js';

const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)} %`);

async function run(): Promise<void> {
  const { values } = parseArgs({
    options: {
      limit: { type: 'string', default: '1000' },
      'no-pgd': { type: 'boolean', default: false },
      out: { type: 'string' },
      version: { type: 'string', default: 'autoattack' },
      threads: { type: 'string', default: '2' },
      workers: { type: 'string' },
    },
  });
  const limit = Number(values.limit);
  const version = values.version as AutoAttackVersion;
  if (!AUTOATTACK_VERSIONS.includes(version)) {
    throw new Error(`--version must be one of ${AUTOATTACK_VERSIONS.join(', ')}`);
  }
  // With --workers N the batches run on N worker threads, one wasm thread each (the same report).
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  await setBackend('wasm', { threads: workers === undefined ? Number(values.threads) : 1 });
  const executor = workers === undefined ? {} : { executor: workerThreads(workers) };
  const { model, checksum } = await loadClassifierFromFile('models/mnist-robust/model.json');
  const data = loadMnist('test', { limit });
  const timer = stageTimer();
  const started = performance.now();
  const aa = await evaluate(
    model,
    data,
    { attacks: version, epsilons: [0.3] },
    { batchSize: 100, modelChecksum: checksum, onProgress: timer.onProgress, ...executor },
  );
  const aaSeconds = (performance.now() - started) / 1000;
  if (values.out) await writeReport(values.out, aa);
  let pgd: number | null = null;
  let pgdSeconds = 0;
  if (!values['no-pgd']) {
    const t0 = performance.now();
    const r = await evaluate(
      model,
      data,
      {
        attacks: [{ name: 'pgd', options: { steps: 50, stepSize: 0.01, restarts: 10 } }],
        epsilons: [0.3],
      },
      {
        batchSize: 100,
        modelChecksum: checksum,
        minimalEpsilon: false,
        diagnostics: false,
        ...executor,
      },
    );
    pgdSeconds = (performance.now() - t0) / 1000;
    pgd = r.attacks[0].results[0].robustAccuracy.value;
  }
  model.dispose();

  const c = aa.cascade;
  if (!c) throw new Error('the AutoAttack report has no cascade table');
  const [p] = c.perEpsilon;
  console.log(`AutoAttack (${version}) on models/mnist-robust, MNIST test, L∞ ε = 0.3\n`);
  console.log(
    `examples: the first ${aa.data.examples}; model sha256 ${aa.model.checksum?.slice(0, 16)}…; seed ${aa.seed}; ${aa.backend}`,
  );
  console.log('\nstage             robust accuracy after it   attacked → broken   seconds');
  console.log(
    `clean             ${pct(aa.clean.accuracy.value).padEnd(27)}${''.padEnd(20)}${(timer.seconds.get('clean') ?? 0).toFixed(0)}`,
  );
  for (const s of p.stages) {
    const q = s.queries !== undefined ? ` (${s.queries} queries)` : '';
    console.log(
      `${s.attack.padEnd(18)}${pct(s.robustAccuracy.value).padEnd(27)}${`${s.attacked} → ${s.broken}`.padEnd(20)}${(timer.seconds.get(s.attack) ?? 0).toFixed(0)}${q}`,
    );
  }
  console.log(
    `\nAutoAttack robust accuracy: ${pct(p.robustAccuracy.value)} (${aaSeconds.toFixed(0)} s)`,
  );
  if (pgd !== null) {
    console.log(
      `PGD-50 × 10 (step 0.01) on the same images: ${pct(pgd)} (${pgdSeconds.toFixed(0)} s)`,
    );
  }
  console.log('\non record:');
  console.log(
    '  advkit PGD-50 × 10, first 1,000 (README, models/mnist-robust/metrics.json): 85.4 %',
  );
  console.log('  reference AutoAttack (fra31/auto-attack) on the same weights, first 100: 80 %');
  console.log('  Wong et al. 2020, this training method: PGD 88.77 %, AutoAttack 82.93 %');
  for (const w of aa.warnings) console.log(`[${w.code}] ${w.message}`);
}

// Exit explicitly: the wasm backend's uncaughtException handler would dump its source.
run().then(
  () => process.exit(0),
  (e) => {
    console.error(`error: ${(e as Error).message}`);
    process.exit(2);
  },
);
