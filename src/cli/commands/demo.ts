/**
 * `advkit demo` (`npm run demo`): nothing to configure. The shipped MNIST CNN
 * on a subset of the MNIST test set under FGSM and PGD at a few ε, report
 * written to a folder it prints; the adversarially trained model too, side by
 * side, when `models/mnist-robust` exists.
 *
 * The subset and PGD steps are sized to finish in about a minute on a 2-core
 * machine (measured; see DEMO_LIMIT); --limit and --steps run more. On the
 * robust model it then runs the fast AutoAttack suite (APGD-CE, APGD-T as a
 * cascade) at ε = 0.3 on the first DEMO_AUTOATTACK_LIMIT images, beside PGD on
 * the same images: FGSM failing is not robustness, and neither is PGD failing.
 * Last, a real trained model on real photos (demo-photos.ts): nsfwjs's
 * MobileNetV2 on the public-domain photos of examples/photos under FGSM,
 * with the classic FGSM picture; a few seconds, so it is part of the one
 * demo rather than a command of its own.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMnist } from '../../data/index.js';
import { evaluate } from '../../eval/index.js';
import type { EvaluationReport, Suite } from '../../eval/types.js';
import { workerThreads } from '../../eval/workers-node.js';
import { loadClassifierFromFile } from '../../model/load-node.js';
import { prepareOutDir } from '../checks.js';
import { defineCommand, note, pct, print, table, timestamp } from '../command.js';
import { positiveInt, text, toggle, UsageError, value } from '../flags.js';
import { mainThreads, runFlags, startBackend, workersFlag } from '../options.js';
import { progressBar } from '../progress.js';
import { reportFiles, summaryLines } from '../summary.js';
import { photoDemoPaths, photoLines, runPhotoDemo } from './demo-photos.js';

/** Examples and PGD steps that keep the demo near a minute on 2 cores (measured). */
export const DEMO_LIMIT = 500;
export const DEMO_PGD_STEPS = 10;
/** One random start can miss what FGSM finds on an FGSM-trained model; three do not (measured on mnist-robust). */
export const DEMO_PGD_RESTARTS = 3;
export const DEMO_EPSILONS = [0.05, 0.1, 0.2, 0.3];
/**
 * Images for the fast AutoAttack suite on models/mnist-robust: APGD-T's nine
 * targets × 100 steps on the still-robust examples dominate, about 10 × the
 * cost of the PGD run per image, so an eighth of DEMO_LIMIT keeps the demo
 * near two minutes on 2 cores.
 */
export const DEMO_AUTOATTACK_LIMIT = 60;
export const DEMO_AUTOATTACK_EPSILON = 0.3;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const MODELS_DIR = path.join(ROOT, 'models');

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
  'autoattack-limit': value(
    'N',
    positiveInt,
    `images for the fast AutoAttack suite on models/mnist-robust at ε = ${DEMO_AUTOATTACK_EPSILON}`,
    { default: DEMO_AUTOATTACK_LIMIT },
  ),
  'no-autoattack': toggle('skip the fast AutoAttack suite on models/mnist-robust'),
  'no-photos': toggle('skip the real photos (nsfwjs MobileNetV2 on examples/photos under FGSM)'),
  'photos-only': toggle('only the real photos: skip the MNIST models'),
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
    'models/mnist-robust exists it is evaluated the same way and shown side by side, then',
    `under the fast AutoAttack suite (APGD-CE, then APGD-T on the examples still robust) at`,
    `ε = ${DEMO_AUTOATTACK_EPSILON} on the first ${DEMO_AUTOATTACK_LIMIT} images, beside PGD on the same images.`,
    '--workers N evaluates on N worker threads (the same report); worth it for larger --limit.',
    "Then a real trained model on real photos: nsfwjs 4.4.0's MobileNetV2 (shipped in the npm",
    'package; models/nsfw-mobilenet) on the public-domain photos of examples/photos, Resize(256) +',
    'CenterCrop(224), under FGSM at ε = 1/255 … 8/255, with the FGSM picture (photo, perturbation,',
    'adversarial photo, top-5 before and after) at 4/255 in photos-fgsm/fgsm-picture.html.',
  ].join('\n'),
  examples: [
    'advkit demo',
    'npm run demo',
    'advkit demo --limit 10000 --steps 40 --out runs/full',
    'advkit demo --limit 10000 --workers 2',
    'advkit demo --photos-only',
  ],
  flags,
  async run(o) {
    if (o['photos-only'] && o['no-photos']) {
      throw new UsageError('--photos-only and --no-photos leave nothing to run; give one');
    }
    await startBackend(o.backend, mainThreads(o));
    const out = o.out ?? path.join('advkit-out', `demo-${timestamp()}`);
    await prepareOutDir(out);
    const names = o['photos-only']
      ? []
      : ['mnist-cnn', 'mnist-robust'].filter(
          (n, i) =>
            i === 0 || (!o['cnn-only'] && existsSync(path.join(MODELS_DIR, n, 'model.json'))),
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
    const robust = reports.find((r) => r.name === 'mnist-robust');
    let fast: { report: EvaluationReport; files: string[] } | undefined;
    if (robust && !o['no-autoattack']) {
      const { model, checksum } = await loadClassifierFromFile(
        path.join(MODELS_DIR, 'mnist-robust', 'model.json'),
        { name: 'mnist-robust' },
      );
      const ds = loadMnist('test', { limit: Math.min(o['autoattack-limit'], o.limit) });
      const bar = progressBar(o.quiet);
      note(o.quiet, `fast AutoAttack on mnist-robust, ${ds.labels.length} images, ε = 0.3…`);
      let report: EvaluationReport;
      try {
        report = await evaluate(
          model,
          {
            ...ds,
            notes: `demo subset: the first ${ds.labels.length} MNIST test images (advkit eval --attacks autoattack runs the full suite)`,
          },
          { attacks: 'autoattack-fast', epsilons: [DEMO_AUTOATTACK_EPSILON] },
          {
            seed: 0,
            modelChecksum: checksum,
            ...(o.workers !== undefined ? { executor: workerThreads(o.workers) } : {}),
            onProgress: (e) =>
              bar.update(
                e.examplesDone,
                e.examples,
                `autoattack-fast ${e.phase}${e.attack ? ` ${e.attack}` : ''}`,
              ),
          },
        );
      } finally {
        bar.stop();
        model.dispose();
      }
      const dir = path.join(out, 'mnist-robust-autoattack-fast');
      fast = { report, files: await reportFiles(dir, report) };
    }
    const photoPaths = o['no-photos'] ? undefined : photoDemoPaths(ROOT);
    let photos: Awaited<ReturnType<typeof runPhotoDemo>> | undefined;
    if (photoPaths) {
      note(o.quiet, 'FGSM on real photos (nsfwjs MobileNetV2, 4 photos)…');
      photos = await runPhotoDemo(photoPaths, out);
    } else if (!o['no-photos']) {
      note(o.quiet, 'real photos skipped: models/nsfw-mobilenet or examples/photos is missing');
    }
    const seconds = (performance.now() - started) / 1000;

    for (const r of reports) print(`== ${r.name}`, ...summaryLines(r.report), '');
    if (reports.length > 1) print('side by side (robust accuracy):', sideBySide(reports), '');
    if (robust && fast) print(...autoAttackLines(robust.report, fast.report), '');
    if (photos) print(...photoLines(photos.picture), '');
    const parts = [
      ...(reports.length > 0
        ? [`${reports[0].report.data.examples} MNIST test images, FGSM and PGD-${o.steps}`]
        : []),
      ...(fast ? [`autoattack-fast on ${fast.report.data.examples} (mnist-robust)`] : []),
      ...(photos ? [`FGSM on ${photos.picture.photos.length} real photos`] : []),
    ];
    print(
      `demo: ${parts.join('; ')}, ${seconds.toFixed(1)} s in all`,
      `report: ${[...reports.flatMap((r) => r.files), ...(fast?.files ?? []), ...(photos?.files ?? [])].join(', ')}`,
      ...(photos
        ? [`the FGSM picture: ${path.join(out, 'photos-fgsm', 'fgsm-picture.html')}`]
        : []),
    );
    return 0;
  },
});

/** The fast suite's stages beside FGSM and PGD on the same first images at the same ε. */
function autoAttackLines(pgdReport: EvaluationReport, fast: EvaluationReport): string[] {
  const stageTable = fast.cascade?.perEpsilon[0];
  if (!stageTable) return [];
  const n = fast.data.examples;
  const eps = stageTable.epsilon;
  const onSubset = (name: string) => {
    const res = pgdReport.attacks
      .find((a) => a.name === name)
      ?.results.find((r) => r.epsilon === eps);
    if (!res) return Number.NaN;
    const first = res.examples.slice(0, n);
    return (
      first.filter((x) => x.cleanPrediction === x.label && x.adversarialPrediction === x.label)
        .length / first.length
    );
  };
  const rows = [
    ['clean', pct(fast.clean.accuracy.value ?? Number.NaN)],
    ['FGSM', pct(onSubset('fgsm'))],
    [
      `PGD-${pgdReport.attacks.find((a) => a.name === 'pgd')?.description.options.steps ?? ''} × ${DEMO_PGD_RESTARTS}`,
      pct(onSubset('pgd')),
    ],
    ...stageTable.stages.map((s) => [
      `AutoAttack-fast: after ${s.attack}`,
      pct(s.robustAccuracy.value ?? Number.NaN),
    ]),
  ];
  return [
    `== mnist-robust, the first ${n} images at ε = ${eps}: robust accuracy`,
    table(['attack', 'robust accuracy'], rows),
    ...fast.warnings
      .filter(
        (w) => w.code === 'BLACK_BOX_BEATS_WHITE_BOX' || w.code === 'FGSM_WEAKER_THAN_ITERATIVE',
      )
      .map((w) => `[${w.code}] ${w.message}`),
  ];
}

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
