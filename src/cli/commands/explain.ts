/**
 * `advkit explain`: the spec's worked examples with numbers, then the linear
 * explanation on one real MNIST example: the first-order predicted loss gain
 * ε‖g‖₁ beside the actual loss change under FGSM.
 */
import * as tf from '@tensorflow/tfjs';
import { sliceDataset as slice } from '../../data/index.js';
import {
  clipToBounds,
  createAttack,
  createRng,
  crossEntropy,
  disposeResults,
  objectiveGradient,
} from '../../index.js';
import { loadClassifierFromFile } from '../../model/load-node.js';
import { defineCommand, print, table } from '../command.js';
import { loadData } from '../data.js';
import { epsilonList, nonNegativeInt, text, toggle, value } from '../flags.js';
import { modelFlags, modelOptions, runFlags, startBackend } from '../options.js';
import { dualNormExample, fourPixelExample } from '../worked-examples.js';

const RANDOM_DRAWS = 20;

const flags = {
  ...modelFlags,
  model: value('PATH', text, 'model.json of the classifier to explain', {
    default: 'models/mnist-cnn/model.json',
  }),
  data: value(
    'SOURCE',
    text,
    'where the example comes from (mnist:test, mnist:test:3,7, a folder)',
    {
      default: 'mnist:test',
    },
  ),
  'labels-csv': value(
    'PATH',
    text,
    'for an image folder: a CSV of file,label instead of subfolders',
  ),
  index: value('N', nonNegativeInt, 'which example of the data set', { default: 0 }),
  eps: value('E[,E..]', epsilonList, 'ε values for the linear explanation', {
    default: [0.001, 0.01, 0.05, 0.1, 0.25],
  }),
  'examples-only': toggle('print only the two worked examples (no model)'),
  ...runFlags,
};

const g3 = (v: number) =>
  Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toFixed(4);

export const explain = defineCommand({
  name: 'explain',
  summary: "the spec's worked examples and the linear explanation on a real example",
  usage: '[--model PATH] [--index N] [--eps E,..]',
  description: [
    'Prints the two worked examples of the FGSM spec step by step (a four-pixel step with a',
    'zero-gradient pixel and clipping; the dual-norm argument that ε·sign(g) maximises gᵀδ over',
    'the L∞ ball), then takes one example and shows ‖g‖₁, the first-order predicted loss gain',
    'ε‖g‖₁, the actual loss change under FGSM and under random ±ε noise, and the prediction',
    'before and after, for a few ε.',
  ].join('\n'),
  examples: [
    'advkit explain',
    'advkit explain --index 7 --eps 0.05,0.1,0.3',
    'advkit explain --model models/mnist-logreg-3v7/model.json --data mnist:test:3,7',
  ],
  flags,
  async run(o) {
    await startBackend(o.backend, o.threads);
    print(...fourPixelExample(), '', ...dualNormExample(), '');
    if (o['examples-only']) return 0;

    const { model, checksum } = await loadClassifierFromFile(o.model, modelOptions(o));
    const ds = await loadData(
      { data: o.data, 'labels-csv': o['labels-csv'], offset: o.index, limit: 1 },
      model,
    );
    const one = slice(ds, 0, 1);
    const y = one.labels[0];
    const x = tf.tensor4d(one.images, one.shape);
    const labelsT = tf.tensor1d([y], 'int32');
    const className = (c: number) => ds.classNames?.[c] ?? String(c);

    const step = objectiveGradient(model, x, labelsT, 'ce');
    const gData = await step.grad.data();
    const clean = await model.predict(x);
    const cleanLoss = (await step.objective.data())[0];
    step.dispose();
    let l1 = 0;
    let l2 = 0;
    let zeros = 0;
    for (const v of gData) {
      l1 += Math.abs(v);
      l2 += v * v;
      if (v === 0) zeros++;
    }
    l2 = Math.sqrt(l2);
    const d = gData.length;

    const results = await createAttack('fgsm').run(model, { x, labels: [y] }, o.eps);
    const rows: string[][] = [];
    for (const r of results) {
      const adv = await r.xAdv.data();
      let clippedGain = 0;
      for (let i = 0; i < d; i++) clippedGain += gData[i] * (adv[i] - one.images[i]);
      const randomLoss = await randomSignLoss(model, x, labelsT, r.epsilon, o.index);
      rows.push([
        String(r.epsilon),
        g3(r.epsilon * l1),
        g3(clippedGain),
        g3(r.loss[0] - cleanLoss),
        g3(randomLoss - cleanLoss),
        `${className(r.predicted[0])} (${(100 * r.confidence[0]).toFixed(1)} %)`,
      ]);
    }
    disposeResults(results);
    tf.dispose([x, labelsT]);

    print(
      `The linear explanation on ${o.data} example ${o.index} (label ${className(y)}), model ${o.model}`,
      `  model sha256 ${checksum.slice(0, 16)}…, ${model.info.output}, bounds [${model.bounds.join(', ')}], mode ${model.info.mode}`,
      `  clean prediction ${className(clean.labels[0])} (${(100 * clean.confidence[0]).toFixed(1)} %), cross-entropy L = ${g3(cleanLoss)}`,
      `  g = ∇ₓL over d = ${d} pixels: ‖g‖₁ = ${g3(l1)}, ‖g‖₂ = ${g3(l2)}, zero coordinates ${zeros} (${((100 * zeros) / d).toFixed(1)} %)`,
      `  ‖g‖₁/‖g‖₂ = ${g3(l1 / l2)} (at most √d = ${Math.sqrt(d).toFixed(1)}): to first order the sign step gains ε‖g‖₁, a random`,
      '  ±ε step gains 0 on average with spread ε‖g‖₂; in high dimension many tiny aligned changes add up.',
      '',
      table(
        [
          'ε',
          'predicted ε‖g‖₁',
          'gᵀ(x_adv−x)',
          'actual ΔL FGSM',
          `ΔL random ±ε (mean of ${RANDOM_DRAWS})`,
          'prediction after FGSM',
        ],
        rows,
      ),
      '',
      '  predicted ε‖g‖₁: first-order gain of the unclipped sign step; gᵀ(x_adv−x): the same after',
      '  clipping to the bounds; actual ΔL: L(x_adv) − L(x). Where they agree the loss is locally',
      '  linear and FGSM is as strong as its linearisation promises.',
    );
    model.dispose();
    return 0;
  },
});

/** Mean loss after random ±ε sign noise (clipped), the same budget as FGSM but unaligned. */
async function randomSignLoss(
  model: Parameters<typeof objectiveGradient>[0],
  x: tf.Tensor4D,
  labelsT: tf.Tensor1D,
  eps: number,
  seed: number,
): Promise<number> {
  const d = x.size;
  const rng = createRng(seed + 1);
  const noise = new Float32Array(RANDOM_DRAWS * d);
  for (let i = 0; i < noise.length; i++) noise[i] = rng.next() < 0.5 ? -eps : eps;
  const loss = tf.tidy(() => {
    const xs = clipToBounds(
      tf.add(
        tf.tile(x, [RANDOM_DRAWS, 1, 1, 1]),
        tf.tensor4d(noise, [RANDOM_DRAWS, ...x.shape.slice(1)] as [number, number, number, number]),
      ),
      model.bounds,
    ) as tf.Tensor4D;
    const labels = tf.tile(labelsT, [RANDOM_DRAWS]) as tf.Tensor1D;
    return tf.mean(crossEntropy(model.logits(xs), labels));
  });
  const v = (await loss.data())[0];
  loss.dispose();
  return v;
}
