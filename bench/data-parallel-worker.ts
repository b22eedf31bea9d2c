/**
 * One data-parallel worker for `bench/data-parallel.ts`: its own wasm
 * backend on one thread, its own copy of the model (weights sent by the
 * main thread), and three jobs on its share of the examples — an FGSM
 * step, an FGSM evaluation over a shard, and the two halves of a
 * data-parallel FGSM-RS training step (gradients out, averaged gradients in).
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../src/backend/index.js';
import { Classifier, FGSM } from '../src/index.js';
import { type BenchModelName, buildBenchModel } from './models.js';
import { fgsmRsStep, fgsmStep } from './steps.js';

interface Init {
  model: BenchModelName;
  weights: Float32Array[];
  eps: number;
}

const init = workerData as Init;
await setBackend('wasm', { threads: 1 });
const bm = buildBenchModel(init.model);
bm.model.setWeights(init.weights.map((w, i) => tf.tensor(w, bm.model.getWeights()[i].shape)));
const model = Classifier.create(bm.model);
const opt = tf.train.sgd(0.01);
const port = parentPort;
if (port == null) throw new Error('data-parallel-worker must run as a worker thread');

type Job =
  | { kind: 'fgsm'; x: Float32Array; labels: Int32Array }
  | { kind: 'eval'; x: Float32Array; labels: Int32Array; batch: number }
  | { kind: 'grads'; x: Float32Array; labels: Int32Array }
  | { kind: 'apply'; grads: Float32Array[] };

port.on('message', async (job: Job) => {
  const d = bm.inputShape.reduce((a, b) => a * b, 1);
  const shape = (x: Float32Array): [number, number, number, number] => [
    x.length / d,
    ...bm.inputShape,
  ];
  if (job.kind === 'fgsm') {
    const x = tf.tensor(job.x, shape(job.x)) as tf.Tensor4D;
    const labels = tf.tensor1d(job.labels, 'int32');
    const adv = fgsmStep(model, x, labels, init.eps);
    const out = adv.dataSync() as Float32Array;
    tf.dispose([x, labels, adv]);
    port.postMessage(out, [out.buffer as ArrayBuffer]);
  } else if (job.kind === 'eval') {
    let robust = 0;
    for (let s = 0; s < job.labels.length; s += job.batch) {
      const e = Math.min(job.labels.length, s + job.batch);
      const x = tf.tensor(job.x.subarray(s * d, e * d), [e - s, ...bm.inputShape]) as tf.Tensor4D;
      const labels = Array.from(job.labels.subarray(s, e));
      const [r] = await new FGSM().run(model, { x, labels }, [init.eps]);
      robust += r.success.filter((s) => !s).length;
      r.xAdv.dispose();
      x.dispose();
    }
    port.postMessage(robust);
  } else if (job.kind === 'grads') {
    const x = tf.tensor(job.x, shape(job.x)) as tf.Tensor4D;
    const labels = tf.tensor1d(job.labels, 'int32');
    const grads = fgsmRsStep(model, bm.model, x, labels, bm.classes, init.eps);
    const out = grads.map((g) => g.dataSync() as Float32Array);
    tf.dispose([x, labels, ...grads]);
    port.postMessage(
      out,
      out.map((g) => g.buffer as ArrayBuffer),
    );
  } else {
    const vars = bm.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const named = vars.map((v, i) => ({
      name: v.name,
      tensor: tf.tensor(job.grads[i], v.shape),
    }));
    opt.applyGradients(named);
    tf.dispose(named.map((n) => n.tensor));
    port.postMessage('applied');
  }
});
port.postMessage('ready');
