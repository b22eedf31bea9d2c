/**
 * Writes what the PyTorch reference harness (scripts/reference/*.py) reads:
 * the first N MNIST test images and labels, and advkit's own logits for them
 * from the TF.js model, so the Python side can check its port of the weights
 * against advkit before attacking.
 *
 *   node --import tsx scripts/reference/export-data.ts [--n 1000] [--model models/mnist-robust] [--out /tmp/advkit-reference]
 *
 * Files in --out (nothing here is committed: it is regenerated in seconds):
 *   mnist-test-images.npy  float32 [N, 28, 28, 1], pixels in [0, 1] (NHWC, as advkit sees them)
 *   mnist-test-labels.npy  int64 [N]
 *   tfjs-logits.npy        float32 [N, 10], advkit's Classifier.logits on the wasm backend
 *   meta.json              N, model path, its checksum, backend
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '../../src/data/index.js';
import { InputError } from '../../src/errors.js';
import { setBackend } from '../../src/index.js';
import { loadClassifierFromFile } from '../../src/model/load-node.js';

/** NumPy's .npy v1.0: magic, header length, a Python-dict header padded to 64 bytes, raw little-endian data. */
function npy(data: Float32Array | BigInt64Array, shape: number[]): Buffer {
  const descr = data instanceof Float32Array ? '<f4' : '<i8';
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

async function run(): Promise<void> {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '1000' },
      model: { type: 'string', default: 'models/mnist-robust' },
      out: { type: 'string', default: '/tmp/advkit-reference' },
    },
  });
  const n = Number(values.n);
  if (!Number.isInteger(n) || n < 1 || n > 10000) {
    throw new InputError(
      'INVALID_OPTION',
      `--n must be an integer from 1 to 10000 (MNIST test examples); received ${JSON.stringify(values.n)}`,
    );
  }
  const backend = await setBackend();
  const modelJson = path.join(values.model!, 'model.json');
  const { model, checksum } = await loadClassifierFromFile(modelJson);
  const data = loadMnist('test', { limit: n });
  const [h, w, c] = data.shape;
  const logits = new Float32Array(n * model.numClasses);
  // Batches of 250 keep the wasm heap small; logits do not depend on the batch.
  for (let start = 0; start < n; start += 250) {
    const end = Math.min(n, start + 250);
    const part = tf.tidy(() => {
      const x = tf.tensor4d(data.images.subarray(start * h * w * c, end * h * w * c), [
        end - start,
        h,
        w,
        c,
      ]);
      return model.logits(x);
    });
    logits.set(await part.data(), start * model.numClasses);
    part.dispose();
  }
  model.dispose();
  mkdirSync(values.out!, { recursive: true });
  const labels = BigInt64Array.from(data.labels, (v) => BigInt(v));
  writeFileSync(path.join(values.out!, 'mnist-test-images.npy'), npy(data.images, [n, h, w, c]));
  writeFileSync(path.join(values.out!, 'mnist-test-labels.npy'), npy(labels, [n]));
  writeFileSync(path.join(values.out!, 'tfjs-logits.npy'), npy(logits, [n, model.numClasses]));
  const meta = {
    examples: n,
    data: `MNIST test, examples 0..${n - 1}`,
    model: modelJson,
    checksum,
    backend,
    layout: 'images NHWC float32 in [0, 1]; logits float32 [N, classes]',
  };
  writeFileSync(path.join(values.out!, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  console.log(`wrote ${n} images, labels and TF.js logits (${meta.backend}) to ${values.out}`);
}

await run();
