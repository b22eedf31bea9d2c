/**
 * Multi-threaded wasm in Node (`src/backend/wasm-threads.ts`, the one module
 * that relies on TF.js internals). The first tests pin each behaviour of
 * TF.js 4.22 that module works around, so a TF.js upgrade that changes one
 * fails here by name (and the wasm memory the SIMD kernels import is still
 * where it was); the rest check that two threads start, give results
 * identical to one thread, and let the process exit on its own.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { buildBenchModel } from '../../bench/models.js';
import { setBackend, unrefThreads, wasmThreads } from '../../src/backend/index.js';
import { simdKernels } from '../../src/backend/simd/index.js';
import { wasmMemory } from '../../src/backend/wasm-threads.js';
import { AdvkitError } from '../../src/errors.js';
import { Classifier } from '../../src/model/classifier.js';
import { objectiveGradient } from '../../src/model/gradient.js';
import { seeded } from './helpers.js';

const require = createRequire(import.meta.url);
const root = new URL('../../', import.meta.url).pathname;

test('TF.js internals relied on: versions, worker script, flag, PThread', async () => {
  assert.equal(tf.version_core, '4.22.0', 'wasm-threads.ts was checked against TF.js 4.22.0');
  const worker =
    require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
      wasmWorkerContents?: string;
    };
  assert.equal(typeof worker.wasmWorkerContents, 'string', 'the worker script is exported');
  assert.match(worker.wasmWorkerContents ?? '', /importScripts\(objectUrl\)/);
  assert.match(worker.wasmWorkerContents ?? '', /require\("worker_threads"\)/);
  assert.ok(
    require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js'),
    "require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js')",
  );
  // TF.js still says "no threads" in Node (else the workaround is moot).
  const env = tf.env();
  const wasSet = env.getFlags().WASM_HAS_MULTITHREAD_SUPPORT;
  env.reset();
  await import('@tensorflow/tfjs-backend-wasm');
  assert.equal(await env.getAsync('WASM_HAS_MULTITHREAD_SUPPORT'), false);
  if (wasSet !== undefined) env.set('WASM_HAS_MULTITHREAD_SUPPORT', wasSet);
});

test('threads: 2 starts two XNNPACK threads, backed by running pthread workers', async () => {
  assert.equal(await setBackend('wasm', { threads: 2 }), 'wasm');
  assert.equal(wasmThreads(), 2);
  assert.ok(unrefThreads() >= 1, 'PThread worker lists are reachable');
  assert.equal(await setBackend('wasm', { threads: 1 }), 'wasm');
  assert.equal(wasmThreads(), 1);
});

test("the wasm backend's memory is reachable, shared exactly when threaded (SIMD kernels)", async () => {
  for (const threads of [2, 1]) {
    await setBackend('wasm', { threads });
    const memory = wasmMemory(tf.backend());
    assert.ok(memory instanceof WebAssembly.Memory, `${threads} threads: WebAssembly.Memory`);
    assert.equal(memory.buffer instanceof SharedArrayBuffer, threads > 1);
    assert.ok(simdKernels(tf.backend()), `${threads} threads: SIMD kernels start`);
  }
});

test('a bad thread count is a coded error', async () => {
  await assert.rejects(
    setBackend('wasm', { threads: 0 }),
    (e: unknown) => e instanceof AdvkitError && e.code === 'INVALID_OPTION',
  );
});

/** ∇ₓ CE of a seeded bench model at a seeded batch, under `threads`. */
async function inputGradient(
  name: 'mnist-cnn' | 'resnet-small',
  threads: number,
): Promise<Float32Array> {
  await setBackend('wasm', { threads });
  const bm = buildBenchModel(name);
  const model = Classifier.create(bm.model);
  const batch = 6;
  const size = batch * bm.inputShape.reduce((a, b) => a * b);
  const x = tf.tensor4d(seeded(size, 7, 0, 1), [batch, ...bm.inputShape]);
  const labels = tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32');
  const before = tf.memory().numTensors;
  const g = objectiveGradient(model, x, labels, 'ce');
  const values = g.grad.dataSync() as Float32Array;
  g.dispose();
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
  tf.dispose([x, labels]);
  bm.model.dispose();
  return values;
}

for (const name of ['mnist-cnn', 'resnet-small'] as const) {
  test(`${name}: input gradients with 2 threads equal 1 thread bit for bit`, async () => {
    const one = await inputGradient(name, 1);
    const two = await inputGradient(name, 2);
    assert.ok(
      one.some((v) => v !== 0),
      'gradient is not trivially 0',
    );
    assert.deepEqual(two, one);
    await setBackend('wasm', { threads: 1 });
  });
}

test('a process that used 2 threads exits on its own', () => {
  const fixture = new URL('./threads-exit.fixture.ts', import.meta.url).pathname;
  const res = spawnSync(process.execPath, ['--import', 'tsx', fixture], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(res.signal, null, `killed by the 60 s timeout: ${res.stderr}`);
  assert.equal(res.status, 0, res.stderr);
});
