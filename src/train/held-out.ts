/**
 * Clean and robust accuracy of a classifier on a data set under one attack,
 * in batches; robust accuracy counts examples correct both clean and under
 * attack, over all examples. Used for the per-epoch held-out PGD check and
 * the final evaluation of a training run.
 */
import * as tf from '@tensorflow/tfjs';
import type { Attack } from '../attacks/types.js';
import type { Classifier } from '../model/classifier.js';
import { gatherBatch } from './batch.js';
import type { TrainingData } from './options.js';

export interface AccuracyResult {
  examples: number;
  cleanAccuracy: number;
  /** Correct clean and under attack / all examples; null without an attack. */
  robustAccuracy: number | null;
}

export async function attackAccuracy(
  model: Classifier,
  data: TrainingData,
  attack: Attack | undefined,
  eps: number,
  options: {
    seed?: number;
    batchSize?: number;
    onBatch?: (done: number, total: number) => void;
  } = {},
): Promise<AccuracyResult> {
  const n = data.labels.length;
  const size = options.batchSize ?? 200;
  let clean = 0;
  let robust = 0;
  for (let start = 0; start < n; start += size) {
    const indices = Int32Array.from({ length: Math.min(size, n - start) }, (_, i) => start + i);
    const batch = gatherBatch(data, indices, model.inputShape);
    try {
      const { labels: pred } = await model.predict(batch.x);
      const ok = pred.map((p, i) => (p === batch.labels[i] ? 1 : 0));
      clean += ok.reduce((a, b) => a + b, 0);
      if (attack) {
        const [res] = await attack.run(
          model,
          { x: batch.x, labels: batch.labels, seed: options.seed ?? 0, indices },
          [eps],
        );
        res.xAdv.dispose();
        res.predicted.forEach((p, i) => {
          if (ok[i] && p === batch.labels[i]) robust += 1;
        });
      }
    } finally {
      tf.dispose(batch.x);
    }
    options.onBatch?.(Math.min(start + size, n), n);
  }
  return {
    examples: n,
    cleanAccuracy: clean / n,
    robustAccuracy: attack ? robust / n : null,
  };
}
