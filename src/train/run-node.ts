/**
 * Node-only: one training run end to end — train (with file checkpoints),
 * save the final model as a standard TF.js model (model.json + weights.bin),
 * evaluate it under FGSM and PGD with restarts, and write report.json and
 * report.html as one set (a killed run leaves the old pair or the new one).
 * The CLI's `train` command and the scripts call this.
 */
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { currentBackend } from '../backend/index.js';
import { writeFileSetAtomic } from '../files/atomic.js';
import { Classifier } from '../model/classifier.js';
import { checksumModelFiles, fileSaveHandler } from '../model/io-node.js';
import { checkOptionKeys } from '../options.js';
import { fileCheckpointStore } from './checkpoint-node.js';
import type { AdversarialTrainOptions, TrainingData } from './options.js';
import { type FinalEvaluationOptions, finalEvaluation, type TrainingReport } from './report.js';
import { trainingReportHtml } from './report-html.js';
import { adversarialTrain } from './train.js';

/** Save a LayersModel as `dir/model.json` + `dir/weights.bin`, each written atomically; returns its checksum. */
export async function saveModelFiles(model: tf.LayersModel, dir: string): Promise<string> {
  await model.save(fileSaveHandler(dir));
  return checksumModelFiles(join(dir, 'model.json'));
}

export interface TrainRunOptions {
  train: TrainingData;
  trainName: string;
  /** Clean accuracy is measured on `test`; FGSM/PGD on its first `attackLimit` examples. */
  test?: TrainingData;
  testName?: string;
  attackLimit?: number;
  evaluation?: Omit<FinalEvaluationOptions, 'eps'>;
  /** Output folder: model.json, weights.bin, report.json, checkpoints/. */
  out: string;
  training: Omit<AdversarialTrainOptions, 'checkpoint'>;
  log?: (line: string) => void;
}

function firstN(d: TrainingData, n: number, perExample: number): TrainingData {
  const k = Math.min(n, d.labels.length);
  return {
    images: d.images.subarray(0, k * perExample),
    labels: Array.prototype.slice.call(d.labels, 0, k) as number[],
  };
}

const TRAIN_RUN_KEYS: { [K in keyof Required<TrainRunOptions>]: true } = {
  train: true,
  trainName: true,
  test: true,
  testName: true,
  attackLimit: true,
  evaluation: true,
  out: true,
  training: true,
  log: true,
};

export async function trainRun(model: tf.LayersModel, o: TrainRunOptions): Promise<TrainingReport> {
  checkOptionKeys(o, Object.keys(TRAIN_RUN_KEYS), 'trainRun options');
  const log = o.log ?? (() => {});
  const result = await adversarialTrain(model, o.train, {
    ...o.training,
    checkpoint: fileCheckpointStore(join(o.out, 'checkpoints')),
  });
  const checksum = await saveModelFiles(model, o.out);
  log(`saved ${join(o.out, 'model.json')} (sha256 ${checksum.slice(0, 12)}…)`);
  let evaluation: TrainingReport['evaluation'];
  const eps = result.options.eps;
  if (o.test && eps > 0) {
    const classifier = Classifier.create(model, { bounds: result.options.bounds });
    const d = classifier.inputShape.reduce((a, b) => a * b, 1);
    try {
      evaluation = await finalEvaluation(
        classifier,
        o.test,
        firstN(o.test, o.attackLimit ?? 1000, d),
        {
          eps,
          ...o.evaluation,
          onProgress: o.evaluation?.onProgress,
        },
      );
    } finally {
      classifier.dispose();
    }
  }
  const report: TrainingReport = {
    format: 'advkit-training-report',
    version: 1,
    model: { name: model.name, checksum, parameters: model.countParams() },
    data: {
      train: o.trainName,
      heldOut: o.training.heldOut ? `${o.training.heldOut.data.labels.length} examples` : undefined,
      evaluation: o.test
        ? `${o.testName ?? 'test'}: clean on ${o.test.labels.length}, attacks on the first ${Math.min(o.attackLimit ?? 1000, o.test.labels.length)}`
        : undefined,
    },
    backend: currentBackend(),
    result,
    evaluation,
  };
  await writeFileSetAtomic(o.out, {
    'report.json': `${JSON.stringify(report, null, 2)}\n`,
    'report.html': await trainingReportHtml(report),
  });
  return report;
}
