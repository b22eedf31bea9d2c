/**
 * Madry et al. 2018 on the shipped naturally trained CNN, whole MNIST test
 * set: FGSM ε = 0.3 (published for a similar CNN: 99.2 % clean, 6.4 % under
 * FGSM) and PGD-40 with step 0.01, which must be at least as strong.
 * Run: npm run repro:madry
 */
import { loadMnist } from '../src/data/index.js';
import { evaluate } from '../src/eval/index.js';
import { setBackend } from '../src/index.js';
import { loadClassifierFromFile } from '../src/model/load-node.js';

const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)} %`);

async function run(): Promise<void> {
  await setBackend('wasm');
  const { model, checksum } = await loadClassifierFromFile('models/mnist-cnn/model.json');
  const r = await evaluate(
    model,
    loadMnist('test'),
    {
      attacks: [
        { name: 'fgsm' },
        { name: 'pgd', options: { steps: 40, stepSize: 0.01, restarts: 1 } },
      ],
      epsilons: [0.3],
    },
    { batchSize: 250, modelChecksum: checksum, minimalEpsilon: false },
  );
  model.dispose();
  const acc = (name: string) =>
    r.attacks.find((a) => a.name === name)?.results[0].robustAccuracy.value ?? null;
  console.log('Madry et al. 2018 — naturally trained CNN, MNIST test, L∞ ε = 0.3\n');
  console.log(`examples ${r.data.examples}, model sha256 ${r.model.checksum?.slice(0, 16)}…`);
  console.log('                      published (similar CNN)   measured (models/mnist-cnn)');
  console.log(`clean accuracy        99.2 %                    ${pct(r.clean.accuracy.value)}`);
  console.log(`FGSM ε = 0.3          6.4 %                     ${pct(acc('fgsm'))}`);
  console.log(`PGD-40 step 0.01      —                         ${pct(acc('pgd'))}`);
  const f = acc('fgsm');
  const p = acc('pgd');
  console.log(
    f !== null && p !== null && p <= f
      ? '\nPGD is at least as strong as FGSM, as it must be.'
      : '\nWARNING: PGD is weaker than FGSM here; check step size, projection, clipping, model mode or loss.',
  );
  for (const w of r.warnings) console.log(`[${w.code}] ${w.message}`);
}

// Exit explicitly: the wasm backend's uncaughtException handler would dump its source.
run().then(
  () => process.exit(0),
  (e) => {
    console.error(`error: ${(e as Error).message}`);
    process.exit(2);
  },
);
