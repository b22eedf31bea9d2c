/**
 * `advkit attack`: run one attack at one ε over a data set and write the
 * adversarial examples as PNGs and as a raw float32 tensor with a JSON header.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { sliceDataset as slice, writePng } from '../../data/index.js';
import { ATTACK_NAMES, type AttackName, describeGoal, disposeResults } from '../../index.js';
import { loadClassifierFromFile } from '../../model/load-node.js';
import { checkRunInputs, prepareOutDir } from '../checks.js';
import { defineCommand, note, pct, print, timestamp } from '../command.js';
import { loadData } from '../data.js';
import { epsilonList, positiveInt, text, toggle, UsageError, value } from '../flags.js';
import {
  attackFrom,
  attackName,
  dataFlags,
  goalFrom,
  modelFlags,
  modelOptions,
  runFlags,
  startBackend,
  threatFlags,
} from '../options.js';
import { progressBar } from '../progress.js';

const flags = {
  ...modelFlags,
  ...dataFlags,
  attack: value('NAME', attackName, `one of ${ATTACK_NAMES.join(', ')}`, {
    default: 'fgsm' as AttackName,
  }),
  eps: value('E', epsilonList, 'ε in pixel units (one value)', { required: true }),
  ...threatFlags,
  'batch-size': value('N', positiveInt, 'examples per attack batch', { default: 64 }),
  out: value('DIR', text, 'output folder', { defaultText: 'advkit-out/attack-<timestamp>' }),
  'no-png': toggle('write only the tensor file'),
  json: toggle('print the summary as JSON on stdout'),
  ...runFlags,
};

export const attack = defineCommand({
  name: 'attack',
  summary: 'write adversarial examples (PNGs and a float32 tensor file)',
  usage: '--model PATH --data SOURCE --attack NAME --eps E [--out DIR]',
  description: [
    'Runs one attack at one ε over the data set and writes to --out:',
    '  <index>_<label>_to_<prediction>.png   each adversarial image (index in the data set)',
    '  adversarial.bin                        raw little-endian float32, shape [n, h, w, c]',
    '  adversarial.json                       header: shape, labels, predictions, success, threat model',
  ].join('\n'),
  examples: [
    'advkit attack --model models/mnist-cnn/model.json --data mnist:test --attack fgsm --eps 0.1 --limit 16 --out adv/',
    'advkit attack --model m/model.json --data ./images --bounds 0,255 --attack pgd --eps 8 --steps 20',
    'advkit attack --model m/model.json --data mnist:test --attack pgd --eps 0.3 --targeted least-likely',
  ],
  flags,
  async run(o) {
    if (o.eps.length !== 1)
      throw new UsageError('--eps takes one value for attack (eval sweeps several)');
    const name = o.attack;
    const [eps] = o.eps;
    const atk = attackFrom(name, o);
    const goal = goalFrom(o.targeted);
    await startBackend(o.backend, o.threads);
    const { model, checksum } = await loadClassifierFromFile(o.model, modelOptions(o));
    const ds = await loadData(o, model);
    checkRunInputs(ds, model, o.eps, atk.norm);
    const n = ds.labels.length;
    const out = o.out ?? path.join('advkit-out', `attack-${timestamp()}`);
    await prepareOutDir(out);

    const [h, w, c] = model.inputShape;
    const d = h * w * c;
    const all = new Float32Array(n * d);
    const predictions: number[] = [];
    const success: boolean[] = [];
    const targets: number[] = [];
    const pngs: string[] = [];
    const bar = progressBar(o.quiet);
    for (let start = 0; start < n; start += o['batch-size']) {
      const end = Math.min(n, start + o['batch-size']);
      const b = slice(ds, start, end);
      const x = tf.tensor4d(b.images, b.shape);
      const indices = Array.from({ length: end - start }, (_, i) => o.offset + start + i);
      let results: Awaited<ReturnType<typeof atk.run>> | undefined;
      try {
        results = await atk.run(model, { x, labels: b.labels, goal, seed: o.seed, indices }, [eps]);
        const r = results[0];
        const adv = await r.xAdv.data();
        all.set(adv, start * d);
        for (let i = 0; i < end - start; i++) {
          predictions.push(r.predicted[i]);
          success.push(r.success[i]);
          if (r.targets) targets.push(r.targets[i]);
          if (!o['no-png']) {
            const file = `${indices[i]}_${b.labels[i]}_to_${r.predicted[i]}.png`;
            writePng(
              path.join(out, file),
              adv.subarray(i * d, (i + 1) * d),
              [h, w, c],
              model.bounds,
            );
            pngs.push(file);
          }
        }
      } finally {
        if (results) disposeResults(results);
        x.dispose();
      }
      bar.update(end, n, `${name} ε=${eps}`);
    }
    bar.stop();

    const successRate = success.filter(Boolean).length / n;
    const header = {
      format: 'advkit adversarial tensor',
      file: 'adversarial.bin',
      dtype: 'float32',
      byteOrder: 'little-endian',
      shape: [n, h, w, c],
      bounds: model.bounds,
      data: o.data,
      offset: o.offset,
      indices: Array.from({ length: n }, (_, i) => o.offset + i),
      labels: Array.from(ds.labels),
      predictions,
      success,
      ...(targets.length ? { targets } : {}),
      attack: atk.describe(),
      epsilon: eps,
      goal: describeGoal(goal),
      seed: o.seed,
      model: { path: o.model, sha256: checksum, ...model.info },
    };
    writeFileSync(path.join(out, 'adversarial.bin'), new Uint8Array(all.buffer));
    writeFileSync(path.join(out, 'adversarial.json'), `${JSON.stringify(header, null, 2)}\n`);
    model.dispose();

    const summary = {
      out,
      examples: n,
      attack: name,
      epsilon: eps,
      norm: atk.norm,
      goal: describeGoal(goal),
      successRate,
      pngs: pngs.length,
      tensor: path.join(out, 'adversarial.bin'),
      header: path.join(out, 'adversarial.json'),
    };
    if (o.json) {
      print(JSON.stringify(summary));
    } else {
      print(
        `${name} (${atk.norm}, ε = ${eps}, ${summary.goal}) on ${n} examples of ${o.data}`,
        `  success ${success.filter(Boolean).length}/${n} (${pct(successRate)}; ${goal.kind === 'untargeted' ? 'prediction ≠ label, already-wrong examples included' : 'prediction = target'})`,
        `  wrote ${pngs.length} PNGs, ${summary.tensor} and ${summary.header}`,
      );
    }
    note(o.quiet || o.json, `output: ${out}`);
    return 0;
  },
});
