/**
 * `advkit demo` (`npm run demo`): nothing to configure. The shipped MNIST CNN
 * on a subset of the MNIST test set under FGSM and PGD at a few ε, report
 * written to a folder it prints; the adversarially trained model too, side by
 * side, when `models/mnist-robust` exists.
 *
 * The subset and PGD steps are sized to finish in about a minute on a 2-core
 * machine (measured; see DEMO_LIMIT); --limit and --steps run more.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMnist } from '../../data/index.js';
import { evaluate } from '../../eval/index.js';
import type { EvaluationReport, Suite } from '../../eval/types.js';
import { workerThreads } from '../../eval/workers-node.js';
import { loadClassifierFromFile } from '../../model/load-node.js';
import { defineCommand, note, pct, print, table, timestamp } from '../command.js';
import { positiveInt, text, toggle, value } from '../flags.js';
import { mainThreads, runFlags, startBackend, workersFlag } from '../options.js';
import { progressBar } from '../progress.js';
import { reportFiles, summaryLines } from '../summary.js';

/** Examples and PGD steps that keep the demo near a minute on 2 cores (measured). */
export const DEMO_LIMIT = 500;
export const DEMO_PGD_STEPS = 10;
/** One random start can miss what FGSM finds on an FGSM-trained model; three do not (measured on mnist-robust). */
export const DEMO_PGD_RESTARTS = 3;
export const DEMO_EPSILONS = [0.05, 0.1, 0.2, 0.3];

const MODELS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'models',
);

const flags = {
  limit: value('N', positiveInt, 'MNIST test examples to evaluate', { default: DEMO_LIMIT }),
  steps: value(
    'N',
    positiveInt,
    `PGD steps (step size 2.5ε/steps, ${DEMO_PGD_RESTARTS} restarts)`,
    {
      default: DEMO_PGD_STEPS,
    },
  ),
  out: value('DIR', text, 'report folder', { defaultText: 'advkit-out/demo-<timestamp>' }),
  'cnn-only': toggle('skip models/mnist-robust even when it exists'),
  ...workersFlag,
  ...runFlags,
};

export const demo = defineCommand({
  name: 'demo',
  summary: 'FGSM and PGD on the shipped MNIST CNN (and the robust model), nothing to configure',
  usage: '[--limit N] [--steps N] [--out DIR]',
  description: [
    `Evaluates models/mnist-cnn on the first ${DEMO_LIMIT} MNIST test images under FGSM and`,
    `PGD-${DEMO_PGD_STEPS} with ${DEMO_PGD_RESTARTS} restarts (L∞, untargeted) at ε = ${DEMO_EPSILONS.join(', ')}, sized to finish in about a`,
    'minute on two CPU cores, and writes the report (JSON, Markdown, HTML). When',
    'models/mnist-robust exists it is evaluated the same way and shown side by side.',
    '--workers N evaluates on N worker threads (the same report); worth it for larger --limit.',
  ].join('\n'),
  examples: [
    'advkit demo',
    'npm run demo',
    'advkit demo --limit 10000 --steps 40 --out runs/full',
    'advkit demo --limit 10000 --workers 2',
  ],
  flags,
  async run(o) {
    await startBackend(o.backend, mainThreads(o));
    const out = o.out ?? path.join('advkit-out', `demo-${timestamp()}`);
    const names = ['mnist-cnn', 'mnist-robust'].filter(
      (n, i) => i === 0 || (!o['cnn-only'] && existsSync(path.join(MODELS_DIR, n, 'model.json'))),
    );
    const suite: Suite = {
      attacks: [
        { name: 'fgsm' },
        { name: 'pgd', options: { steps: o.steps, restarts: DEMO_PGD_RESTARTS } },
      ],
      epsilons: DEMO_EPSILONS,
    };
    const reports: { name: string; report: EvaluationReport; files: string[] }[] = [];
    const started = performance.now();
    for (const name of names) {
      const { model, checksum } = await loadClassifierFromFile(
        path.join(MODELS_DIR, name, 'model.json'),
        {
          name,
        },
      );
      const ds = loadMnist('test', { limit: o.limit });
      const data = {
        ...ds,
        notes: `demo subset: the first ${ds.labels.length} of 10,000 MNIST test images, PGD-${o.steps} with ${DEMO_PGD_RESTARTS} restarts, sized to run in about a minute on 2 CPU cores (advkit demo --limit 10000 --steps 40 runs the full set)`,
      };
      const bar = progressBar(o.quiet);
      note(o.quiet, `evaluating ${name} on ${ds.labels.length} MNIST test images…`);
      let report: EvaluationReport;
      try {
        report = await evaluate(model, data, suite, {
          seed: 0,
          modelChecksum: checksum,
          minimalEpsilon: { attacks: ['fgsm'] },
          ...(o.workers !== undefined ? { executor: workerThreads(o.workers) } : {}),
          onProgress: (e) =>
            bar.update(
              e.examplesDone,
              e.examples,
              `${name} ${e.phase}${e.attack ? ` ${e.attack}` : ''}`,
            ),
        });
      } finally {
        bar.stop();
        model.dispose();
      }
      const dir = names.length > 1 ? path.join(out, name) : out;
      reports.push({ name, report, files: await reportFiles(dir, report) });
    }
    const seconds = (performance.now() - started) / 1000;

    for (const r of reports) print(`== ${r.name}`, ...summaryLines(r.report), '');
    if (reports.length > 1) print('side by side (robust accuracy):', sideBySide(reports), '');
    print(
      `demo: ${reports[0].report.data.examples} MNIST test images, FGSM and PGD-${o.steps}, ${seconds.toFixed(1)} s in all`,
      `report: ${reports.flatMap((r) => r.files).join(', ')}`,
    );
    return 0;
  },
});

function sideBySide(reports: { name: string; report: EvaluationReport }[]): string {
  const header = ['ε'];
  for (const r of reports) for (const a of r.report.attacks) header.push(`${r.name} ${a.name}`);
  const clean = ['clean'];
  for (const r of reports)
    for (const _ of r.report.attacks) clean.push(pct(r.report.clean.accuracy.value ?? Number.NaN));
  const rows = DEMO_EPSILONS.map((eps) => {
    const row = [String(eps)];
    for (const r of reports) {
      for (const a of r.report.attacks) {
        const res = a.results.find((x) => x.epsilon === eps);
        row.push(pct(res?.robustAccuracy.value ?? Number.NaN));
      }
    }
    return row;
  });
  return table(header, [clean, ...rows]);
}
