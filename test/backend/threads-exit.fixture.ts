/**
 * Run by `wasm-threads.test.ts` in a child process: start wasm with two
 * threads, compute, and return without `process.exit` — the process must
 * end on its own.
 */
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';

await setBackend('wasm', { threads: 2 });
tf.conv2d(
  tf.ones([8, 32, 32, 8]) as tf.Tensor4D,
  tf.ones([3, 3, 8, 8]) as tf.Tensor4D,
  1,
  'same',
).dataSync();
